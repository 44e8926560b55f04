import Secp256k1

/// An 80-byte block header.
public struct BlockHeader: Hashable, Sendable {
    public static let byteCount = 80

    public var version: Int32
    /// Internal byte order.
    public var previousBlockHash: [UInt8]
    /// Internal byte order.
    public var merkleRoot: [UInt8]
    public var time: UInt32
    public var bits: UInt32
    public var nonce: UInt32

    public init(version: Int32, previousBlockHash: [UInt8], merkleRoot: [UInt8], time: UInt32, bits: UInt32, nonce: UInt32) {
        precondition(previousBlockHash.count == 32 && merkleRoot.count == 32)
        self.version = version
        self.previousBlockHash = previousBlockHash
        self.merkleRoot = merkleRoot
        self.time = time
        self.bits = bits
        self.nonce = nonce
    }

    /// Parses exactly 80 bytes.
    public init(parsing bytes: [UInt8]) throws(BitcoinError) {
        var r = ByteReader(bytes)
        try self.init(reading: &r)
        try r.expectEnd()
    }

    public init(reading r: inout ByteReader) throws(BitcoinError) {
        version = Int32(bitPattern: try r.readUInt32())
        previousBlockHash = try r.readBytes(32)
        merkleRoot = try r.readBytes(32)
        time = try r.readUInt32()
        bits = try r.readUInt32()
        nonce = try r.readUInt32()
    }

    /// Splits a concatenation of 80-byte headers.
    public static func parseConcatenated(_ bytes: [UInt8]) throws(BitcoinError) -> [BlockHeader] {
        guard bytes.count % byteCount == 0 else { throw .trailingBytes(count: bytes.count % byteCount) }
        guard bytes.count / byteCount <= Limits.headersPerVerificationMax else {
            throw .oversize(field: "headers", count: bytes.count / byteCount, limit: Limits.headersPerVerificationMax)
        }
        var r = ByteReader(bytes)
        var out = [BlockHeader]()
        out.reserveCapacity(bytes.count / byteCount)
        while !r.isAtEnd { out.append(try BlockHeader(reading: &r)) }
        return out
    }

    public var serialized: [UInt8] {
        var w = ByteWriter(capacity: 80)
        w.writeUInt32(UInt32(bitPattern: version))
        w.write(previousBlockHash)
        w.write(merkleRoot)
        w.writeUInt32(time)
        w.writeUInt32(bits)
        w.writeUInt32(nonce)
        return w.bytes
    }

    /// dSHA256 of the header, internal byte order.
    public var hash: [UInt8] { BitcoinHashes.sha256d(serialized) }
    public var displayHash: String { Hex.encode(hash.reversed()) }
}
