import Bitcoin
import Secp256k1

/// Canonical encodings of the Bitcoin and secp256k1 values that blocks and state carry.
extension CanonicalWriter {
    mutating func publicKey(_ key: PublicKey) { fixed(key.compressed) }
    mutating func header(_ h: BlockHeader) { fixed(h.serialized) }
    mutating func uint256(_ v: UInt256) { fixed(v.bigEndianBytes) }
    mutating func outpoint(_ o: OutPoint) {
        fixed(o.txid)
        u32(o.index)
    }
    mutating func string(_ s: String) { variable(Array(s.utf8)) }
}

extension CanonicalReader {
    mutating func publicKey() throws(ShardError) -> PublicKey {
        let bytes = try fixed(33)
        do { return try PublicKey(encoded: bytes) } catch { throw .malformed("not a compressed secp256k1 public key") }
    }

    mutating func header() throws(ShardError) -> BlockHeader {
        do { return try BlockHeader(parsing: try fixed(BlockHeader.byteCount)) } catch let e as BitcoinError {
            throw .headerRejected(e)
        } catch { throw .malformed("header") }
    }

    mutating func uint256() throws(ShardError) -> UInt256 { UInt256(littleEndian: try fixed(32).reversed()) }

    mutating func outpoint() throws(ShardError) -> OutPoint { OutPoint(txid: try fixed(32), index: try u32()) }

    mutating func string(field: String) throws(ShardError) -> String {
        let bytes = try variable(field: field, max: ShardLimits.nameBytesMax)
        guard let s = String(validating: bytes, as: UTF8.self) else { throw .malformed("\(field) is not UTF-8") }
        return s
    }

    /// A 32-byte hash.
    mutating func hash32() throws(ShardError) -> [UInt8] { try fixed(32) }
}
