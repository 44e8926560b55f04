import Secp256k1
import Testing
import TestSupport

/// Group laws and encodings of `Point`, with the identity as a first-class value.
@Suite(.dedicatedThread) struct PointTests {
    @Test func groupLawsHoldIncludingIdentity() throws {
        var rng = SplitMix(seed: 11)
        for _ in 0..<200 {
            let a = Scalar.random(using: &rng), b = Scalar.random(using: &rng)
            let pa = Point.generatorMultiple(a), pb = Point.generatorMultiple(b)
            #expect(pa + pb == Point.generatorMultiple(a + b))
            #expect(pa * b == Point.generatorMultiple(a * b))
            #expect(pa - pa == .identity)
            #expect(pa + .identity == pa)
            #expect(-pa + pb == Point.generatorMultiple(b - a))
            #expect(Point.sum([pa, pb, -pa, -pb]) == .identity)
            #expect(Point.sum([pa, pb, .identity]) == pa + pb)
        }
        #expect(Point.generatorMultiple(.zero) == .identity)
        #expect(Point.generator * .zero == .identity)
        #expect(Point.identity * Scalar(5) == .identity)
        #expect(Point.sum([]) == .identity)
    }

    @Test func encodingsRoundTrip() throws {
        var rng = SplitMix(seed: 12)
        for _ in 0..<200 {
            let p = Point.generatorMultiple(Scalar.randomNonZero(using: &rng))
            #expect(try Point(encoded: p.compressed) == p)
            #expect(try Point(encoded: p.uncompressed) == p)
            #expect(p.compressed.count == 33 && p.uncompressed.count == 65)
        }
        #expect(try Point(encoded: [0]) == .identity)
        #expect(Point.identity.compressed == [0])
    }

    @Test func malformedEncodingsAreTypedErrors() throws {
        #expect(throws: PointError.invalidLength(0)) { try Point(encoded: []) }
        #expect(throws: PointError.invalidLength(34)) { try Point(encoded: [UInt8](repeating: 2, count: 34)) }
        #expect(throws: PointError.invalidPrefix(5)) { try Point(encoded: [5] + [UInt8](repeating: 1, count: 32)) }
        #expect(throws: PointError.invalidPrefix(6)) { try Point(encoded: [6] + [UInt8](repeating: 1, count: 64)) }
        #expect(throws: PointError.invalidPrefix(1)) { try Point(encoded: [1]) }
        // x = 5 is not on the curve (5³ + 7 = 132 is not a square mod p).
        #expect(throws: PointError.notOnCurve) { try Point(encoded: [2] + [UInt8](repeating: 0, count: 31) + [5]) }
        // x ≥ p.
        #expect(throws: PointError.notOnCurve) { try Point(encoded: [2] + [UInt8](repeating: 0xFF, count: 32)) }
        #expect(throws: PointError.identityNotAllowed) { try Point(publicKeyEncoding: [0]) }
        // Random bytes: typed errors or valid points, never a crash.
        var rng = SplitMix(seed: 13)
        for _ in 0..<20_000 {
            let length = [1, 33, 65, Int(rng.next() % 70)][Int(rng.next() % 4)]
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if length == 33 { bytes[0] = 2 + UInt8(rng.next() % 2) }
            if let p = try? Point(encoded: bytes) { #expect(try Point(encoded: p.compressed) == p) }
        }
    }
}
