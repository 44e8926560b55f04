/// An unsigned 256-bit integer, just enough for proof of work: compact targets, retargeting, chain work.
/// Four little-endian 64-bit limbs. Not constant-time (all inputs are public chain data).
public struct UInt256: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Limbs, least significant first.
    public var limbs: (UInt64, UInt64, UInt64, UInt64)

    public init(_ v: UInt64 = 0) { limbs = (v, 0, 0, 0) }
    init(limbs l: [UInt64]) { limbs = (l[0], l[1], l[2], l[3]) }

    public static let zero = UInt256()
    public static let max = UInt256(limbs: [.max, .max, .max, .max])

    var array: [UInt64] { [limbs.0, limbs.1, limbs.2, limbs.3] }

    /// From 32 little-endian bytes (how a block hash is stored and compared against its target).
    public init(littleEndian b: [UInt8]) {
        precondition(b.count == 32)
        var l = [UInt64](repeating: 0, count: 4)
        for i in 0..<32 { l[i / 8] |= UInt64(b[i]) << (8 * UInt64(i % 8)) }
        self.init(limbs: l)
    }

    /// From big-endian hex of up to 64 digits (the way chainwork is printed); nil if invalid.
    public init?(hex: String) {
        var s = Substring(hex)
        if s.hasPrefix("0x") { s = s.dropFirst(2) }
        guard !s.isEmpty, s.count <= 64 else { return nil }
        var v = UInt256()
        for c in s {
            guard let d = c.hexDigitValue else { return nil }
            v = v.shiftedLeft(4)
            v.limbs.0 |= UInt64(d)
        }
        self = v
    }

    public var bigEndianBytes: [UInt8] {
        let a = array
        return (0..<32).map { i in UInt8(truncatingIfNeeded: a[3 - i / 8] >> (8 * UInt64(7 - i % 8))) }
    }

    public var description: String {
        let hex = bigEndianBytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let trimmed = hex.drop { $0 == "0" }
        return "0x" + (trimmed.isEmpty ? "0" : trimmed)
    }

    public static func == (a: UInt256, b: UInt256) -> Bool { a.array == b.array }
    public func hash(into h: inout Hasher) { h.combine(array) }

    public static func < (a: UInt256, b: UInt256) -> Bool {
        let x = a.array, y = b.array
        for i in stride(from: 3, through: 0, by: -1) where x[i] != y[i] { return x[i] < y[i] }
        return false
    }

    /// Number of significant bits.
    public var bitWidth: Int {
        let a = array
        for i in stride(from: 3, through: 0, by: -1) where a[i] != 0 { return 64 * i + 64 - a[i].leadingZeroBitCount }
        return 0
    }

    public func shiftedLeft(_ n: Int) -> UInt256 {
        guard n < 256 else { return .zero }
        let a = array
        var r = [UInt64](repeating: 0, count: 4)
        let limbShift = n / 64, bitShift = UInt64(n % 64)
        for i in stride(from: 3, through: limbShift, by: -1) {
            r[i] = a[i - limbShift] << bitShift
            if bitShift > 0, i - limbShift - 1 >= 0 { r[i] |= a[i - limbShift - 1] >> (64 - bitShift) }
        }
        return UInt256(limbs: r)
    }

    public func shiftedRight(_ n: Int) -> UInt256 {
        guard n < 256 else { return .zero }
        let a = array
        var r = [UInt64](repeating: 0, count: 4)
        let limbShift = n / 64, bitShift = UInt64(n % 64)
        for i in 0..<(4 - limbShift) {
            r[i] = a[i + limbShift] >> bitShift
            if bitShift > 0, i + limbShift + 1 < 4 { r[i] |= a[i + limbShift + 1] << (64 - bitShift) }
        }
        return UInt256(limbs: r)
    }

    /// Wrapping addition (chain work never approaches 2^256).
    public static func &+ (a: UInt256, b: UInt256) -> UInt256 {
        let x = a.array, y = b.array
        var r = [UInt64](repeating: 0, count: 4)
        var carry: UInt64 = 0
        for i in 0..<4 {
            let (s1, o1) = x[i].addingReportingOverflow(y[i])
            let (s2, o2) = s1.addingReportingOverflow(carry)
            r[i] = s2
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        return UInt256(limbs: r)
    }

    public static func &- (a: UInt256, b: UInt256) -> UInt256 {
        let x = a.array, y = b.array
        var r = [UInt64](repeating: 0, count: 4)
        var borrow: UInt64 = 0
        for i in 0..<4 {
            let (d1, o1) = x[i].subtractingReportingOverflow(y[i])
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            r[i] = d2
            borrow = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        return UInt256(limbs: r)
    }

    /// Product with a 64-bit factor; `overflow` if the result needs more than 256 bits.
    public func multipliedReportingOverflow(by m: UInt64) -> (value: UInt256, overflow: Bool) {
        let a = array
        var r = [UInt64](repeating: 0, count: 4)
        var carry: UInt64 = 0
        for i in 0..<4 {
            let (hi, lo) = a[i].multipliedFullWidth(by: m)
            let (s, o) = lo.addingReportingOverflow(carry)
            r[i] = s
            carry = hi &+ (o ? 1 : 0)
        }
        return (UInt256(limbs: r), carry != 0)
    }

    /// Quotient by a non-zero 64-bit divisor.
    public func divided(by d: UInt64) -> UInt256 {
        precondition(d != 0)
        let a = array
        var r = [UInt64](repeating: 0, count: 4)
        var rem: UInt64 = 0
        for i in stride(from: 3, through: 0, by: -1) {
            (r[i], rem) = d.dividingFullWidth((rem, a[i]))
        }
        return UInt256(limbs: r)
    }

    /// Quotient by a non-zero 256-bit divisor (shift-and-subtract long division).
    public func divided(by d: UInt256) -> UInt256 {
        precondition(d != .zero)
        if d > self { return .zero }
        var remainder = self
        var quotient = UInt256()
        let shift = bitWidth - d.bitWidth
        var divisor = d.shiftedLeft(shift)
        for s in stride(from: shift, through: 0, by: -1) {
            if !(remainder < divisor) {
                remainder = remainder &- divisor
                quotient = quotient &+ UInt256(1).shiftedLeft(s)
            }
            divisor = divisor.shiftedRight(1)
        }
        return quotient
    }

    // MARK: Compact ("nBits") encoding, as Core's arith_uint256::SetCompact/GetCompact.

    /// Decodes nBits: a 1-byte exponent and 23-bit mantissa with a sign bit. Reports the two states Core treats as
    /// invalid targets.
    public static func decodeCompact(_ bits: UInt32) -> (target: UInt256, negative: Bool, overflow: Bool) {
        let size = Int(bits >> 24)
        var word = UInt64(bits & 0x007F_FFFF)
        var target: UInt256
        if size <= 3 {
            word >>= 8 * UInt64(3 - size)
            target = UInt256(word)
        } else {
            target = UInt256(word).shiftedLeft(8 * (size - 3))
        }
        let negative = word != 0 && bits & 0x0080_0000 != 0
        let overflow = word != 0 && (size > 34 || (word > 0xFF && size > 33) || (word > 0xFFFF && size > 32))
        return (target, negative, overflow)
    }

    /// Encodes as nBits (never sets the sign bit for a non-negative value).
    public var compact: UInt32 {
        var size = (bitWidth + 7) / 8
        var word: UInt64
        if size <= 3 {
            word = limbs.0 << (8 * UInt64(3 - size))
        } else {
            word = shiftedRight(8 * (size - 3)).limbs.0
        }
        if word & 0x0080_0000 != 0 {
            word >>= 8
            size += 1
        }
        return UInt32(word) | UInt32(size) << 24
    }

    /// Expected hashes to meet `target`: 2^256 / (target + 1), computed as ~target / (target + 1) + 1 (Core's GetBlockProof).
    public static func work(target: UInt256) -> UInt256 {
        let denominator = target &+ UInt256(1)
        if denominator == .zero { return UInt256(1) }  // target = 2^256 − 1
        return (UInt256.max &- target).divided(by: denominator) &+ UInt256(1)
    }
}
