// Goal: Shamir sharing, Lagrange interpolation (and its per-signer-set cache), evaluation in the exponent,
// Feldman and Pedersen VSS, and the derivation of H behave as the algebra says.
// Method: random polynomials from a seeded generator, checked against direct computation; every verifier is
// also fed a tampered share and must reject it; H is re-derived by an independent Python script.
import Foundation
import SimulationSupport
import Testing
import TestSupport

@testable import MPC
@testable import Secp256k1

@Suite(.dedicatedThread) struct SharingTests {
    @Test func anyThresholdPlusOneSharesRecoverTheSecret() {
        var rng = DeterministicRNG(seed: 1)
        for (t, n) in [(1, 4), (2, 7), (4, 13), (10, 31)] {
            let secret = Scalar.random(using: &rng)
            let polynomial = Polynomial.random(degree: t, constantTerm: secret, using: &rng)
            let shares = polynomial.shares(count: n)
            for _ in 0..<5 {
                var indices = Array(1...n)
                indices.shuffle(using: &rng)
                let chosen = Array(indices.prefix(t + 1)).sorted()
                let values = chosen.map { shares[$0 - 1] }
                #expect(Lagrange.interpolate(indices: chosen, values: values) == secret)
                // t shares interpolate a degree-(t−1) polynomial: not the secret (except with negligible odds).
                let fewer = Array(chosen.prefix(t))
                #expect(Lagrange.interpolate(indices: fewer, values: fewer.map { shares[$0 - 1] }) != secret)
            }
        }
    }

    @Test func lagrangeCoefficientsSumToOneAndCacheAgrees() {
        var cache = LagrangeCache(setsMax: 2)
        for set in [[1, 2, 3], [2, 5, 9, 11], [1, 2, 3], [4, 7]] {
            let direct = Lagrange.coefficients(for: set)
            #expect(direct.reduce(Scalar.zero, +) == .one)
            #expect(cache.coefficients(for: set) == direct)
        }
        #expect(cache.count <= 2)
    }

    @Test func consistencyCheckDetectsOneWrongValue() {
        var rng = DeterministicRNG(seed: 2)
        let polynomial = Polynomial.random(degree: 4, constantTerm: .random(using: &rng), using: &rng)
        let indices = Array(1...13)
        var values = polynomial.shares(count: 13)
        #expect(Lagrange.areConsistent(indices: indices, values: values, degree: 4))
        #expect(!Lagrange.areConsistent(indices: indices, values: values, degree: 3))
        values[11] += .one
        #expect(!Lagrange.areConsistent(indices: indices, values: values, degree: 4))
    }

    @Test func exponentEvaluationMatchesScalarEvaluation() {
        var rng = DeterministicRNG(seed: 3)
        let polynomial = Polynomial.random(degree: 5, constantTerm: .random(using: &rng), using: &rng)
        let commitment = FeldmanCommitment(polynomial: polynomial)
        for index in [0, 1, 2, 7, 31, 48, 49, 60] {
            let expected = Point.generatorMultiple(polynomial.evaluate(at: Scalar(UInt64(index))))
            #expect(commitment.evaluate(at: index) == expected)
        }
    }

    @Test func feldmanAcceptsTrueSharesAndRejectsTamperedOnes() {
        var rng = DeterministicRNG(seed: 4)
        let polynomial = Polynomial.random(degree: 2, constantTerm: .random(using: &rng), using: &rng)
        let commitment = FeldmanCommitment(polynomial: polynomial)
        for i in 1...7 {
            let share = polynomial.evaluate(at: i)
            #expect(commitment.verify(share: share, index: i))
            #expect(!commitment.verify(share: share + .one, index: i))
            #expect(!commitment.verify(share: share, index: i % 7 + 1))
        }
        #expect(commitment.constantTerm == Point.generatorMultiple(polynomial.constantTerm))
    }

    @Test func pedersenAcceptsTrueSharesAndRejectsTamperedOnes() {
        var rng = DeterministicRNG(seed: 5)
        let sharing = PedersenSharing(secret: .random(using: &rng), degree: 3, using: &rng)
        for i in 1...10 {
            let share = sharing.share(for: i)
            #expect(sharing.commitment.verify(share: share, index: i))
            var badValue = share
            badValue.value += .one
            #expect(!sharing.commitment.verify(share: badValue, index: i))
            var badBlinding = share
            badBlinding.blinding += .one
            #expect(!sharing.commitment.verify(share: badBlinding, index: i))
        }
        // Sums of sharings verify against sums of commitments (what every random sharing relies on).
        let other = PedersenSharing(secret: .random(using: &rng), degree: 3, using: &rng)
        let summed = PedersenCommitment(
            coefficients: ExponentPolynomial.sum([sharing.commitment.coefficients, other.commitment.coefficients]))
        #expect(summed.verify(share: sharing.share(for: 4) + other.share(for: 4), index: 4))
    }

    @Test func zeroSharingHasIdentityConstantCommitment() {
        var rng = DeterministicRNG(seed: 6)
        let sharing = PedersenSharing(secret: .zero, degree: 4, zeroBlindingConstant: true, using: &rng)
        #expect(sharing.commitment.coefficients[0].isIdentity)
        let indices = Array(1...5)
        #expect(Lagrange.interpolate(indices: indices, values: indices.map { sharing.share(for: $0).value }) == .zero)
    }

    @Test func pedersenGeneratorMatchesIndependentDerivation() throws {
        let h = PedersenGenerator.h
        #expect(h != Point.generator && !h.isIdentity)
        guard PythonOracle.isAvailable else {
            if PythonOracle.isRequired { Issue.record("\(PythonOracle.missingMessage)") }
            return
        }
        let request = "{\"kind\":\"pedersenH\",\"tag\":\"\(Hex.encode(PedersenGenerator.tag))\"}\n"
        let output = try PythonOracle.run(script: "mpc_verify.py", input: Data(request.utf8))
        let result = try JSONSerialization.jsonObject(with: output) as? [String: Any]
        #expect(result?["point"] as? String == Hex.encode(h.compressed))
        #expect(result?["counter"] as? Int == Int(PedersenGenerator.derivation.counter))
    }
}
