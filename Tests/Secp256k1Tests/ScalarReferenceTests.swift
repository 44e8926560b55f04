import BigInt
import Secp256k1
import Testing
import TestSupport

/// Scalar arithmetic against attaswift/BigInt (an independent arbitrary-precision implementation), on
/// 100,000 edge-biased random cases per operation (2,000 for `power`, whose BigInt reference is slow), plus the edges
/// of the range.
@Suite(.dedicatedThread) struct ScalarReferenceTests {
    static let order = BigUInt("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", radix: 16)!
    static let cases = 100_000

    static func big(_ s: Scalar) -> BigUInt { BigUInt(Data(s.bytes)) }

    static func scalar(_ b: BigUInt) -> Scalar {
        var bytes = [UInt8](b.serialize())
        bytes = [UInt8](repeating: 0, count: 32 - bytes.count) + bytes
        return try! Scalar(bytes: bytes)
    }

    /// Random scalars biased towards edge cases: 0, 1, n−1, small and huge values.
    static func sample(_ rng: inout SplitMix) -> Scalar {
        switch rng.next() % 16 {
        case 0: return .zero
        case 1: return .one
        case 2: return scalar(order - 1)
        case 3: return Scalar(rng.next() % 1000)
        case 4: return scalar(order - 1 - BigUInt(rng.next() % 1000))
        default: return Scalar.random(using: &rng)
        }
    }

    @Test func addSubNegateMatchBigInt() {
        var rng = SplitMix(seed: 1)
        let n = Self.order
        for _ in 0..<Self.cases {
            let a = Self.sample(&rng), b = Self.sample(&rng)
            let x = Self.big(a), y = Self.big(b)
            #expect(Self.big(a + b) == (x + y) % n)
            #expect(Self.big(a - b) == (x + n - y) % n)
            #expect(Self.big(-a) == (n - x) % n)
        }
    }

    @Test func multiplyMatchesBigInt() {
        var rng = SplitMix(seed: 2)
        for _ in 0..<Self.cases {
            let a = Self.sample(&rng), b = Self.sample(&rng)
            #expect(Self.big(a * b) == (Self.big(a) * Self.big(b)) % Self.order)
            #expect(Self.big(a.squared()) == (Self.big(a) * Self.big(a)) % Self.order)
        }
    }

    @Test func inverseMatchesBigInt() throws {
        var rng = SplitMix(seed: 3)
        for _ in 0..<Self.cases {
            let a = Self.sample(&rng)
            if a.isZero {
                #expect(throws: ScalarError.notInvertible) { try a.inverse() }
                continue
            }
            let inv = try a.inverse()
            #expect((Self.big(inv) * Self.big(a)) % Self.order == 1)
        }
    }

    /// `batchInverse` against BigInt's modular inverse (extended Euclid), not against this module's own `inverse`:
    /// 100 batches of 1,000 edge-biased non-zero values (100,000 cases), and batches of every size from 1 to 9.
    @Test func batchInverseMatchesBigInt() throws {
        var rng = SplitMix(seed: 4)
        var checked = 0
        let sizes = [Int](1...9) + [Int](repeating: 1_000, count: 100)
        for size in sizes {
            let values = (0..<size).map { _ in
                let a = Self.sample(&rng)
                return a.isZero ? Scalar.one : a
            }
            let inverses = try Scalar.batchInverse(values)
            try #require(inverses.count == values.count)
            for (v, inv) in zip(values, inverses) {
                #expect(Self.big(inv) == Self.big(v).inverse(Self.order), "batchInverse of \(Self.big(v))")
                checked += 1
            }
        }
        #expect(checked == 100_045)
        #expect(try Scalar.batchInverse([]).isEmpty)
        // A zero anywhere in the batch has no inverse.
        for position in 0..<3 {
            var values: [Scalar] = [Scalar(3), Scalar(5), Scalar(7)]
            values[position] = .zero
            #expect(throws: ScalarError.notInvertible) { try Scalar.batchInverse(values) }
        }
    }

    @Test func powerMatchesBigInt() {
        var rng = SplitMix(seed: 5)
        for _ in 0..<2_000 {
            let a = Self.sample(&rng), e = Self.sample(&rng)
            #expect(Self.big(a.power(e)) == Self.big(a).power(Self.big(e), modulus: Self.order))
        }
    }

    @Test func encodingRoundTripsAndRejectsOutOfRange() throws {
        var rng = SplitMix(seed: 6)
        for _ in 0..<Self.cases {
            let a = Self.sample(&rng)
            #expect(try Scalar(bytes: a.bytes) == a)
        }
        #expect(throws: ScalarError.outOfRange) { try Scalar(bytes: Scalar.orderBytes) }
        #expect(throws: ScalarError.outOfRange) { try Scalar(bytes: [UInt8](repeating: 0xFF, count: 32)) }
        #expect(throws: ScalarError.invalidLength(31)) { try Scalar(bytes: [UInt8](repeating: 0, count: 31)) }
        #expect(throws: ScalarError.invalidLength(33)) { try Scalar(bytes: [UInt8](repeating: 0, count: 33)) }
        // Reducing decode: n ↦ 0, 2^256−1 ↦ 2^256−1−n.
        #expect(Scalar(reducing: Scalar.orderBytes) == .zero)
        let max = BigUInt(1) << 256 - 1
        #expect(Self.big(Scalar(reducing: [UInt8](repeating: 0xFF, count: 32))) == max - Self.order)
    }

    /// Values only: whether `select` compiles to branch-free code is not something a unit test can see.
    @Test func selectPicksTheSecondValueWhenTheFlagIsSet() {
        let a = Scalar(7), b = Scalar(9)
        #expect(Scalar.select(a, b, if: false) == a)
        #expect(Scalar.select(a, b, if: true) == b)
    }

    @Test func descriptionNeverShowsTheValue() {
        let secret = Scalar(123_456_789)
        #expect(!"\(secret)".contains("75bcd15"))
    }
}

/// SplitMix64: a small seeded generator for tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation
