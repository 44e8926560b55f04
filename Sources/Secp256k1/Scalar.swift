/// An integer modulo the secp256k1 group order
/// n = FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFE BAAEDCE6 AF48A03B BFD25E8C D0364141.
///
/// Written in Swift on four 64-bit limbs because libsecp256k1 exports no scalar arithmetic (in particular no
/// inverse), and MPC evaluates polynomials and Lagrange coefficients at high rates.
///
/// The value is kept in Montgomery form (a·R mod n, R = 2^256) so that multiplication needs no division.
///
/// Constant time: `+`, `-`, `*`, negation, `squared()`, `inverse()` (apart from the final zero check, which
/// reveals only whether the value was zero), `power(_:)` with a secret exponent, equality, encoding and
/// decoding of in-range values, and `select` take the same path whatever the values. Functions whose names
/// end in `Var` (and `description`) may branch on their inputs and take only public data.
public struct Scalar: Sendable {
    // Montgomery limbs, least significant first. Always fully reduced (< n).
    @usableFromInline var m0: UInt64
    @usableFromInline var m1: UInt64
    @usableFromInline var m2: UInt64
    @usableFromInline var m3: UInt64

    @inlinable
    init(montgomery m0: UInt64, _ m1: UInt64, _ m2: UInt64, _ m3: UInt64) {
        self.m0 = m0
        self.m1 = m1
        self.m2 = m2
        self.m3 = m3
    }
}

// MARK: - Constants

extension Scalar {
    @usableFromInline static let n0: UInt64 = 0xBFD2_5E8C_D036_4141
    @usableFromInline static let n1: UInt64 = 0xBAAE_DCE6_AF48_A03B
    @usableFromInline static let n2: UInt64 = 0xFFFF_FFFF_FFFF_FFFE
    @usableFromInline static let n3: UInt64 = 0xFFFF_FFFF_FFFF_FFFF
    /// -n⁻¹ mod 2^64, for Montgomery reduction.
    @usableFromInline static let nPrime: UInt64 = 0x4B0D_FF66_5588_B13F
    /// R² mod n, to move a plain value into Montgomery form.
    @usableFromInline static let r2 = Scalar(
        montgomery: 0x896C_F214_67D7_D140, 0x7414_96C2_0E7C_F878, 0xE697_F5E4_5BCD_07C6, 0x9D67_1CD5_81C6_9BC5)

    /// The group order n as 32 big-endian bytes.
    public static let orderBytes: [UInt8] = limbsToBytes(n0, n1, n2, n3)

    /// 0.
    public static let zero = Scalar(montgomery: 0, 0, 0, 0)
    /// 1 (R mod n in Montgomery form).
    public static let one = Scalar(
        montgomery: 0x402D_A173_2FC9_BEBF, 0x4551_2319_50B7_5FC4, 0x0000_0000_0000_0001, 0)
}

// MARK: - Errors

/// Why a scalar could not be made or computed.
public enum ScalarError: Error, Equatable, Sendable {
    /// The encoding was not exactly 32 bytes.
    case invalidLength(Int)
    /// The encoded integer is ≥ the group order n.
    case outOfRange
    /// Zero has no multiplicative inverse.
    case notInvertible
}

// MARK: - Limb arithmetic

/// a + b·c + carry, returning the low word and leaving the high word in `carry`. Cannot overflow:
/// (2^64-1) + (2^64-1)² + (2^64-1) < 2^128.
@inlinable @inline(__always)
func multiplyAccumulate(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ carry: inout UInt64) -> UInt64 {
    let (hi, lo) = b.multipliedFullWidth(by: c)
    let (s1, o1) = lo.addingReportingOverflow(a)
    let (s2, o2) = s1.addingReportingOverflow(carry)
    carry = hi &+ UInt64(o1 ? 1 : 0) &+ UInt64(o2 ? 1 : 0)
    return s2
}

@inlinable @inline(__always)
func addCarry(_ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 {
    let (s1, o1) = a.addingReportingOverflow(b)
    let (s2, o2) = s1.addingReportingOverflow(carry)
    carry = UInt64(o1 ? 1 : 0) | UInt64(o2 ? 1 : 0)
    return s2
}

@inlinable @inline(__always)
func subBorrow(_ a: UInt64, _ b: UInt64, _ borrow: inout UInt64) -> UInt64 {
    let (d1, o1) = a.subtractingReportingOverflow(b)
    let (d2, o2) = d1.subtractingReportingOverflow(borrow)
    borrow = UInt64(o1 ? 1 : 0) | UInt64(o2 ? 1 : 0)
    return d2
}

func limbsToBytes(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    let limbs = [l3, l2, l1, l0]
    for (i, limb) in limbs.enumerated() {
        for j in 0..<8 {
            out[i * 8 + j] = UInt8(truncatingIfNeeded: limb >> (56 - 8 * UInt64(j)))
        }
    }
    return out
}

extension Scalar {
    /// Reduces a 257-bit value (top bit in `carry`) that is below 2n, by one conditional subtraction of n.
    /// Constant-time: the subtraction is always computed and the result chosen with a mask.
    @inlinable @inline(__always)
    static func reduceOnce(_ t0: UInt64, _ t1: UInt64, _ t2: UInt64, _ t3: UInt64, carry: UInt64) -> Scalar {
        var borrow: UInt64 = 0
        let d0 = subBorrow(t0, n0, &borrow)
        let d1 = subBorrow(t1, n1, &borrow)
        let d2 = subBorrow(t2, n2, &borrow)
        let d3 = subBorrow(t3, n3, &borrow)
        // Keep t when (carry == 0 && borrow == 1), i.e. t < n; otherwise take d.
        let keepT = (carry ^ 1) & borrow  // 1 when t < n
        let maskT = 0 &- keepT
        let maskD = ~maskT
        return Scalar(
            montgomery: (t0 & maskT) | (d0 & maskD), (t1 & maskT) | (d1 & maskD),
            (t2 & maskT) | (d2 & maskD), (t3 & maskT) | (d3 & maskD))
    }

    /// Montgomery product a·b·R⁻¹ mod n (CIOS, four limbs, fully unrolled). Constant-time.
    @inlinable @inline(__always)
    static func montgomeryMultiply(_ a: Scalar, _ b: Scalar) -> Scalar {
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0, t4: UInt64 = 0
        @inline(__always) func round(_ ai: UInt64) {
            var c: UInt64 = 0
            t0 = multiplyAccumulate(t0, ai, b.m0, &c)
            t1 = multiplyAccumulate(t1, ai, b.m1, &c)
            t2 = multiplyAccumulate(t2, ai, b.m2, &c)
            t3 = multiplyAccumulate(t3, ai, b.m3, &c)
            var c2: UInt64 = 0
            t4 = addCarry(t4, c, &c2)
            let t5 = c2
            let m = t0 &* nPrime
            c = 0
            _ = multiplyAccumulate(t0, m, n0, &c)
            t0 = multiplyAccumulate(t1, m, n1, &c)
            t1 = multiplyAccumulate(t2, m, n2, &c)
            t2 = multiplyAccumulate(t3, m, n3, &c)
            c2 = 0
            t3 = addCarry(t4, c, &c2)
            t4 = t5 &+ c2
        }
        round(a.m0)
        round(a.m1)
        round(a.m2)
        round(a.m3)
        return reduceOnce(t0, t1, t2, t3, carry: t4)
    }
}

// MARK: - Construction and encoding

extension Scalar {
    /// The scalar with a small integer value.
    @inlinable
    public init(_ value: UInt64) {
        self = Scalar.montgomeryMultiply(Scalar(montgomery: value, 0, 0, 0), Scalar.r2)
    }

    /// Decodes 32 big-endian bytes; values ≥ n are an error (never silently reduced).
    /// Constant-time for in-range input: the range check computes a borrow, not a branch per limb.
    public init(bytes: some Collection<UInt8>) throws(ScalarError) {
        guard bytes.count == 32 else { throw .invalidLength(bytes.count) }
        let (l0, l1, l2, l3) = Scalar.limbs(fromBigEndian: bytes)
        var borrow: UInt64 = 0
        _ = subBorrow(l0, Scalar.n0, &borrow)
        _ = subBorrow(l1, Scalar.n1, &borrow)
        _ = subBorrow(l2, Scalar.n2, &borrow)
        _ = subBorrow(l3, Scalar.n3, &borrow)
        guard borrow == 1 else { throw .outOfRange }
        self = Scalar.montgomeryMultiply(Scalar(montgomery: l0, l1, l2, l3), Scalar.r2)
    }

    /// Decodes 32 big-endian bytes and reduces modulo n (for hash outputs, e.g. an ECDSA digest).
    /// Constant-time. Precondition: exactly 32 bytes.
    public init(reducing bytes: some Collection<UInt8>) {
        precondition(bytes.count == 32, "Scalar(reducing:) takes exactly 32 bytes")
        let (l0, l1, l2, l3) = Scalar.limbs(fromBigEndian: bytes)
        // A 256-bit value is below 2n, so one conditional subtraction reduces it.
        let plain = Scalar.reduceOnce(l0, l1, l2, l3, carry: 0)
        self = Scalar.montgomeryMultiply(plain, Scalar.r2)
    }

    static func limbs(fromBigEndian bytes: some Collection<UInt8>) -> (UInt64, UInt64, UInt64, UInt64) {
        var limbs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var index = 0
        for byte in bytes {
            let limbIndex = 3 - index / 8
            let shift = UInt64(56 - 8 * (index % 8))
            let v = UInt64(byte) << shift
            switch limbIndex {
            case 3: limbs.3 |= v
            case 2: limbs.2 |= v
            case 1: limbs.1 |= v
            default: limbs.0 |= v
            }
            index += 1
        }
        return limbs
    }

    /// The plain (non-Montgomery) limbs, least significant first.
    @inlinable
    var plainLimbs: (UInt64, UInt64, UInt64, UInt64) {
        let p = Scalar.montgomeryMultiply(self, Scalar(montgomery: 1, 0, 0, 0))
        return (p.m0, p.m1, p.m2, p.m3)
    }

    /// 32 big-endian bytes. Constant-time.
    public var bytes: [UInt8] {
        let (l0, l1, l2, l3) = plainLimbs
        return limbsToBytes(l0, l1, l2, l3)
    }

    /// Lower-case hex of the 32-byte encoding. Only for public values.
    public var hexVar: String {
        bytes.map { byteHex($0) }.joined()
    }

    /// A uniformly random scalar from the system CSPRNG (getrandom on Linux), by rejection sampling.
    public static func random() -> Scalar {
        var rng = SystemRandomNumberGenerator()
        return random(using: &rng)
    }

    /// A uniformly random scalar from an injected generator (seeded simulations use this).
    /// Rejection sampling: a 256-bit draw is ≥ n with probability below 2^-127.
    public static func random(using rng: inout some RandomNumberGenerator) -> Scalar {
        while true {
            let l0 = rng.next() as UInt64, l1 = rng.next() as UInt64
            let l2 = rng.next() as UInt64, l3 = rng.next() as UInt64
            var borrow: UInt64 = 0
            _ = subBorrow(l0, n0, &borrow)
            _ = subBorrow(l1, n1, &borrow)
            _ = subBorrow(l2, n2, &borrow)
            _ = subBorrow(l3, n3, &borrow)
            if borrow == 1 {
                return Scalar.montgomeryMultiply(Scalar(montgomery: l0, l1, l2, l3), Scalar.r2)
            }
        }
    }

    /// A uniformly random non-zero scalar.
    public static func randomNonZero(using rng: inout some RandomNumberGenerator) -> Scalar {
        while true {
            let s = random(using: &rng)
            if !s.isZeroVar { return s }
        }
    }
}

// MARK: - Arithmetic

extension Scalar {
    /// a + b mod n. Constant-time.
    @inlinable
    public static func + (a: Scalar, b: Scalar) -> Scalar {
        var c: UInt64 = 0
        let t0 = addCarry(a.m0, b.m0, &c)
        let t1 = addCarry(a.m1, b.m1, &c)
        let t2 = addCarry(a.m2, b.m2, &c)
        let t3 = addCarry(a.m3, b.m3, &c)
        return reduceOnce(t0, t1, t2, t3, carry: c)
    }

    /// a − b mod n. Constant-time: n is added back under a mask when the subtraction borrows.
    @inlinable
    public static func - (a: Scalar, b: Scalar) -> Scalar {
        var borrow: UInt64 = 0
        let d0 = subBorrow(a.m0, b.m0, &borrow)
        let d1 = subBorrow(a.m1, b.m1, &borrow)
        let d2 = subBorrow(a.m2, b.m2, &borrow)
        let d3 = subBorrow(a.m3, b.m3, &borrow)
        let mask = 0 &- borrow
        var c: UInt64 = 0
        let r0 = addCarry(d0, n0 & mask, &c)
        let r1 = addCarry(d1, n1 & mask, &c)
        let r2 = addCarry(d2, n2 & mask, &c)
        let r3 = addCarry(d3, n3 & mask, &c)
        return Scalar(montgomery: r0, r1, r2, r3)
    }

    /// −a mod n. Constant-time.
    @inlinable
    public static prefix func - (a: Scalar) -> Scalar {
        Scalar.zero - a
    }

    /// a · b mod n. Constant-time.
    @inlinable
    public static func * (a: Scalar, b: Scalar) -> Scalar {
        montgomeryMultiply(a, b)
    }

    @inlinable
    public static func += (a: inout Scalar, b: Scalar) { a = a + b }
    @inlinable
    public static func -= (a: inout Scalar, b: Scalar) { a = a - b }
    @inlinable
    public static func *= (a: inout Scalar, b: Scalar) { a = a * b }

    /// a² mod n. Constant-time.
    @inlinable
    public func squared() -> Scalar { Scalar.montgomeryMultiply(self, self) }

    /// Whether the value is zero. Constant-time (no early exit).
    @inlinable
    public var isZero: Bool { (m0 | m1 | m2 | m3) == 0 }

    /// Same as `isZero`; the name marks call sites where the result steers control flow on public data.
    @inlinable
    public var isZeroVar: Bool { isZero }

    /// Chooses `a` when `condition` is false and `b` when it is true, without a branch.
    @inlinable
    public static func select(_ a: Scalar, _ b: Scalar, if condition: Bool) -> Scalar {
        let mask = 0 &- UInt64(condition ? 1 : 0)
        return Scalar(
            montgomery: (a.m0 & ~mask) | (b.m0 & mask), (a.m1 & ~mask) | (b.m1 & mask),
            (a.m2 & ~mask) | (b.m2 & mask), (a.m3 & ~mask) | (b.m3 & mask))
    }

    /// self^exponent mod n, where the exponent is a scalar's integer value (so < n).
    /// Constant-time in both base and exponent: a fixed 4-bit window whose table entry is picked by scanning
    /// every entry under a mask, never by a secret index.
    public func power(_ exponent: Scalar) -> Scalar {
        let e = exponent.plainLimbs
        var table = [Scalar](repeating: .one, count: 16)
        for i in 1..<16 { table[i] = table[i - 1] * self }
        var acc = Scalar.one
        let limbs = [e.3, e.2, e.1, e.0]
        for limb in limbs {
            var shift: UInt64 = 60
            while true {
                acc = acc.squared().squared().squared().squared()
                let window = (limb >> shift) & 0xF
                var chosen = Scalar.zero
                for i in 0..<16 {
                    let hit = UInt64(i) ^ window
                    // hit == 0 exactly when i == window; turn that into an all-ones mask without branching.
                    let isHit = ((hit | (0 &- hit)) >> 63) ^ 1
                    chosen = Scalar.select(chosen, table[i], ifMask: 0 &- isHit)
                }
                acc = acc * chosen
                if shift == 0 { break }
                shift -= 4
            }
        }
        return acc
    }

    @inlinable
    static func select(_ a: Scalar, _ b: Scalar, ifMask mask: UInt64) -> Scalar {
        Scalar(
            montgomery: (a.m0 & ~mask) | (b.m0 & mask), (a.m1 & ~mask) | (b.m1 & mask),
            (a.m2 & ~mask) | (b.m2 & mask), (a.m3 & ~mask) | (b.m3 & mask))
    }

    /// self^e for a public exponent given as limbs (least significant first), by a fixed 4-bit window.
    /// Constant-time in the base; the exponent is public, so indexing the table by it leaks nothing secret.
    @inlinable
    func powerPublicExponent(_ e0: UInt64, _ e1: UInt64, _ e2: UInt64, _ e3: UInt64) -> Scalar {
        let x1 = self
        let x2 = x1.squared()
        let x3 = x2 * x1
        let x4 = x3 * x1
        let x5 = x4 * x1
        let x6 = x5 * x1
        let x7 = x6 * x1
        let x8 = x7 * x1
        let x9 = x8 * x1
        let x10 = x9 * x1
        let x11 = x10 * x1
        let x12 = x11 * x1
        let x13 = x12 * x1
        let x14 = x13 * x1
        let x15 = x14 * x1
        let table = [Scalar.one, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15]
        var acc = Scalar.one
        var first = true
        for limb in [e3, e2, e1, e0] {
            var shift = 60
            while shift >= 0 {
                let window = Int((limb >> UInt64(shift)) & 0xF)
                if first {
                    acc = table[window]
                    first = false
                } else {
                    acc = acc.squared().squared().squared().squared()
                    if window != 0 { acc = acc * table[window] }
                }
                shift -= 4
            }
        }
        return acc
    }

    /// The multiplicative inverse, by Fermat's little theorem (self^(n−2)).
    /// Constant-time in the value except for the final zero check; zero throws `notInvertible`.
    public func inverse() throws(ScalarError) -> Scalar {
        let result = powerPublicExponent(Scalar.n0 &- 2, Scalar.n1, Scalar.n2, Scalar.n3)
        if isZero { throw .notInvertible }
        return result
    }

    /// Inverts every element with one field inversion and 3(k−1) multiplications (Montgomery's trick).
    /// Throws `notInvertible` if any element is zero. Constant-time in the values apart from that check.
    public static func batchInverse(_ values: [Scalar]) throws(ScalarError) -> [Scalar] {
        if values.isEmpty { return [] }
        var prefix = [Scalar](repeating: .one, count: values.count)
        var acc = Scalar.one
        var anyZero = false
        for (i, v) in values.enumerated() {
            anyZero = anyZero || v.isZero
            prefix[i] = acc
            acc = acc * v
        }
        if anyZero { throw .notInvertible }
        var inv = try acc.inverse()
        var out = [Scalar](repeating: .zero, count: values.count)
        for i in stride(from: values.count - 1, through: 0, by: -1) {
            out[i] = inv * prefix[i]
            inv = inv * values[i]
        }
        return out
    }
}

// MARK: - Equality, hashing, printing

extension Scalar: Equatable {
    /// Constant-time comparison (no early exit).
    @inlinable
    public static func == (a: Scalar, b: Scalar) -> Bool {
        ((a.m0 ^ b.m0) | (a.m1 ^ b.m1) | (a.m2 ^ b.m2) | (a.m3 ^ b.m3)) == 0
    }
}

extension Scalar: Hashable {
    public func hash(into hasher: inout Hasher) {
        hasher.combine(m0)
        hasher.combine(m1)
        hasher.combine(m2)
        hasher.combine(m3)
    }
}

extension Scalar: CustomStringConvertible {
    /// Redacted, so that a secret scalar never reaches a log by accident. Use `hexVar` for public values.
    public var description: String { "Scalar(<redacted>)" }
}

@usableFromInline
func byteHex(_ b: UInt8) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
}
