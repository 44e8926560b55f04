/// Big-endian fixed-width writer for the compact, deterministic consensus encoding. There is exactly one encoding
/// of every message, so the bytes a signer signs are the bytes a verifier checks and evidence can quote.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func raw(_ v: some Collection<UInt8>) { bytes.append(contentsOf: v) }
}

/// Reader over a byte slice that throws `.truncated` instead of reading past the end.
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    private(set) var offset: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.offset = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - offset }
    var consumed: Int { offset - bytes.startIndex }

    mutating func u8() throws(ConsensusError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(ConsensusError) -> UInt16 { UInt16(try uint(2)) }
    mutating func u32() throws(ConsensusError) -> UInt32 { UInt32(try uint(4)) }
    mutating func u64() throws(ConsensusError) -> UInt64 { try uint(8) }

    mutating func raw(_ count: Int) throws(ConsensusError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw .truncated }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// Succeeds only if every byte was consumed.
    func finish() throws(ConsensusError) {
        guard remaining == 0 else { throw .trailingBytes(remaining) }
    }

    private mutating func uint(_ width: Int) throws(ConsensusError) -> UInt64 {
        guard remaining >= width else { throw .truncated }
        var v: UInt64 = 0
        for i in 0..<width { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += width
        return v
    }
}
