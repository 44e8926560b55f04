/// The shard's one byte encoding: big-endian fixed-width integers, length-prefixed byte strings and counted lists,
/// each with an explicit bound. There is exactly one encoding of every value, so a block's hash (its consensus
/// value id) and the state root are the same on every node, and a decoder that accepts bytes re-encodes them to
/// the same bytes (the tests check this).
struct CanonicalWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    /// Fixed-width bytes whose length both sides know (hashes, keys).
    mutating func fixed(_ v: [UInt8]) { bytes.append(contentsOf: v) }
    /// `length u32 ‖ bytes`.
    mutating func variable(_ v: [UInt8]) {
        u32(UInt32(v.count))
        bytes.append(contentsOf: v)
    }
    mutating func count(_ n: Int) { u32(UInt32(n)) }
}

/// Reads what `CanonicalWriter` wrote, refusing anything else: short input, over-long lengths, non-0/1 booleans
/// and (in `finish`) trailing bytes.
struct CanonicalReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws(ShardError) -> UInt8 {
        guard remaining >= 1 else { throw .malformed("truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u32() throws(ShardError) -> UInt32 { UInt32(try uint(4)) }
    mutating func u64() throws(ShardError) -> UInt64 { try uint(8) }

    mutating func bool() throws(ShardError) -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let b: throw .malformed("boolean byte \(b) at \(offset - 1)")
        }
    }

    mutating func fixed(_ count: Int) throws(ShardError) -> [UInt8] {
        guard remaining >= count else { throw .malformed("truncated: \(count) bytes needed at \(offset)") }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func variable(field: String, max: Int) throws(ShardError) -> [UInt8] {
        let n = Int(try u32())
        guard n <= max else { throw .oversize(field: field, count: n, limit: max) }
        return try fixed(n)
    }

    /// A list count, bounded both by `max` and by the bytes left (each element takes at least `minimumElementBytes`),
    /// so a hostile count cannot make the decoder reserve memory the input does not back.
    mutating func count(field: String, max: Int, minimumElementBytes: Int = 1) throws(ShardError) -> Int {
        let n = Int(try u32())
        guard n <= max else { throw .oversize(field: field, count: n, limit: max) }
        guard n * minimumElementBytes <= remaining else { throw .malformed("\(field): \(n) elements cannot fit in \(remaining) bytes") }
        return n
    }

    func finish() throws(ShardError) {
        guard remaining == 0 else { throw .malformed("\(remaining) trailing bytes") }
    }

    private mutating func uint(_ width: Int) throws(ShardError) -> UInt64 {
        guard remaining >= width else { throw .malformed("truncated: \(width) bytes needed at \(offset)") }
        var v: UInt64 = 0
        for i in 0..<width { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += width
        return v
    }
}
