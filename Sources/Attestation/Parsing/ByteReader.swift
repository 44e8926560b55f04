/// A bounds-checked little-endian cursor over evidence bytes.
///
/// Every read checks the remaining length first, so a short or lying input becomes a typed
/// `EvidenceParseError.truncated` instead of a trap. Offsets are relative to the start of `bytes`.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    /// The field name used in truncation errors (e.g. "quote", "TD report").
    let context: String

    init(_ bytes: [UInt8], offset: Int = 0, context: String) {
        self.bytes = bytes
        self.offset = offset
        self.context = context
    }

    var remaining: Int { bytes.count - offset }

    mutating func read(_ count: Int, _ field: String) throws(EvidenceParseError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw .truncated(structure: context, field: field, needed: count, available: max(remaining, 0))
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func skip(_ count: Int, _ field: String) throws(EvidenceParseError) {
        guard count >= 0, count <= remaining else {
            throw .truncated(structure: context, field: field, needed: count, available: max(remaining, 0))
        }
        offset += count
    }

    mutating func u16(_ field: String) throws(EvidenceParseError) -> UInt16 {
        let b = try read(2, field)
        return UInt16(b[0]) | UInt16(b[1]) << 8
    }

    mutating func u32(_ field: String) throws(EvidenceParseError) -> UInt32 {
        let b = try read(4, field)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    mutating func u64(_ field: String) throws(EvidenceParseError) -> UInt64 {
        let b = try read(8, field)
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = v << 8 | UInt64(b[i]) }
        return v
    }
}

extension Array where Element == UInt8 {
    /// Little-endian integer of the bytes at `offset..<offset+width` (caller guarantees bounds).
    func littleEndianValue(at offset: Int, width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0..<width).reversed() { v = v << 8 | UInt64(self[offset + i]) }
        return v
    }

    /// Lower-case hexadecimal.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    var isAllZero: Bool { allSatisfy { $0 == 0 } }
}
