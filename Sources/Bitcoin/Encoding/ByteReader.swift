/// A bounds-checked cursor over bytes. Every read throws `BitcoinError.truncated` instead of trapping, so parsers
/// built on it never crash on hostile input.
public struct ByteReader {
    public let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func readBytes(_ count: Int) throws(BitcoinError) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw .truncated(offset: offset, needed: count) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    public mutating func readUInt8() throws(BitcoinError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated(offset: offset, needed: 1) }
        defer { offset += 1 }
        return bytes[offset]
    }

    public func peekUInt8() throws(BitcoinError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated(offset: offset, needed: 1) }
        return bytes[offset]
    }

    /// A little-endian unsigned integer of `width` bytes.
    mutating func readLittleEndian(width: Int) throws(BitcoinError) -> UInt64 {
        guard remaining >= width else { throw .truncated(offset: offset, needed: width) }
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += width
        return v
    }

    public mutating func readUInt16() throws(BitcoinError) -> UInt16 { UInt16(try readLittleEndian(width: 2)) }
    public mutating func readUInt32() throws(BitcoinError) -> UInt32 { UInt32(try readLittleEndian(width: 4)) }
    public mutating func readUInt64() throws(BitcoinError) -> UInt64 { try readLittleEndian(width: 8) }

    /// Bitcoin's CompactSize, rejecting non-canonical encodings as Core does.
    public mutating func readCompactSize() throws(BitcoinError) -> UInt64 {
        let start = offset
        let first = try readUInt8()
        switch first {
        case 0..<0xFD: return UInt64(first)
        case 0xFD:
            let v = UInt64(try readUInt16())
            guard v >= 0xFD else { throw .nonCanonicalCompactSize(offset: start) }
            return v
        case 0xFE:
            let v = UInt64(try readUInt32())
            guard v > 0xFFFF else { throw .nonCanonicalCompactSize(offset: start) }
            return v
        default:
            let v = try readUInt64()
            guard v > 0xFFFF_FFFF else { throw .nonCanonicalCompactSize(offset: start) }
            return v
        }
    }

    /// A CompactSize count checked against `limit` before anything is allocated for it.
    public mutating func readCount(_ field: String, limit: Int) throws(BitcoinError) -> Int {
        let v = try readCompactSize()
        guard v <= UInt64(limit) else { throw .oversize(field: field, count: v > UInt64(Int.max) ? Int.max : Int(v), limit: limit) }
        return Int(v)
    }

    /// CompactSize-prefixed bytes, the length checked against `limit` and against what is left.
    public mutating func readVarBytes(_ field: String, limit: Int) throws(BitcoinError) -> [UInt8] {
        let n = try readCount(field, limit: limit)
        return try readBytes(n)
    }

    /// Throws unless every byte was consumed.
    public func expectEnd() throws(BitcoinError) {
        guard isAtEnd else { throw .trailingBytes(count: remaining) }
    }
}

/// Appends Bitcoin's little-endian and CompactSize encodings to a byte array.
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func write(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }
    public mutating func writeUInt8(_ v: UInt8) { bytes.append(v) }
    public mutating func writeUInt16(_ v: UInt16) { writeLittleEndian(UInt64(v), width: 2) }
    public mutating func writeUInt32(_ v: UInt32) { writeLittleEndian(UInt64(v), width: 4) }
    public mutating func writeUInt64(_ v: UInt64) { writeLittleEndian(v, width: 8) }

    mutating func writeLittleEndian(_ v: UInt64, width: Int) {
        for i in 0..<width { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    public mutating func writeCompactSize(_ v: UInt64) {
        switch v {
        case 0..<0xFD: bytes.append(UInt8(v))
        case 0xFD...0xFFFF: bytes.append(0xFD); writeUInt16(UInt16(v))
        case 0x1_0000...0xFFFF_FFFF: bytes.append(0xFE); writeUInt32(UInt32(v))
        default: bytes.append(0xFF); writeUInt64(v)
        }
    }

    public mutating func writeVarBytes(_ b: [UInt8]) {
        writeCompactSize(UInt64(b.count))
        bytes.append(contentsOf: b)
    }
}
