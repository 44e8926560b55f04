// Goal: the robust-opening decoder corrects up to its radius and names the wrong senders, and the product
// proof accepts honest products and rejects every tampered statement.
// Method: seeded random polynomials with chosen corruptions; proofs checked against altered commitments.
import SimulationSupport
import Testing

@testable import MPC
@testable import Secp256k1

@Suite struct ReedSolomonAndProofTests {
    @Test func decoderCorrectsUpToTErrorsAndNamesThem() {
        var rng = DeterministicRNG(seed: 10)
        for (t, n) in [(1, 4), (2, 7), (4, 13)] {
            let polynomial = Polynomial.random(degree: t, constantTerm: .random(using: &rng), using: &rng)
            var values = polynomial.shares(count: n)
            let indices = Array(1...n)
            let liars = Array(indices.shuffled(using: &rng).prefix(t)).sorted()
            for liar in liars { values[liar - 1] += Scalar.random(using: &rng) }
            let decoded = ReedSolomon.decode(indices: indices, values: values, degree: t)
            #expect(decoded?.constantTerm == polynomial.constantTerm)
            #expect(decoded?.wrongIndices == liars)
        }
    }

    @Test func decoderRefusesBeyondItsRadius() {
        var rng = DeterministicRNG(seed: 11)
        let polynomial = Polynomial.random(degree: 1, constantTerm: .random(using: &rng), using: &rng)
        var values = polynomial.shares(count: 4)
        values[0] += .one
        values[1] += .one
        let decoded = ReedSolomon.decode(indices: [1, 2, 3, 4], values: values, degree: 1)
        #expect(decoded == nil || decoded?.constantTerm != polynomial.constantTerm)
    }

    @Test func productProofAcceptsHonestAndRejectsTampered() {
        var rng = DeterministicRNG(seed: 12)
        let a = VerifiableShare(value: .random(using: &rng), blinding: .random(using: &rng))
        let b = VerifiableShare(value: .random(using: &rng), blinding: .random(using: &rng))
        let gamma = Scalar.random(using: &rng)
        let product = VerifiableShare(value: a.value * b.value, blinding: gamma)
        let statement = (a: a.commitment, b: b.commitment, c: product.commitment)
        let context = Array("test".utf8)
        let proof = ProductProof.prove(
            a: a, b: b, productBlinding: gamma, commitments: statement, context: context, using: &rng)
        #expect(proof.verify(commitments: statement, context: context))
        #expect(!proof.verify(commitments: statement, context: Array("other".utf8)))
        let wrongProduct = VerifiableShare(value: a.value * b.value + .one, blinding: gamma).commitment
        #expect(!proof.verify(commitments: (statement.a, statement.b, wrongProduct), context: context))
        // A cheating prover who commits to a wrong product cannot make a proof that verifies.
        let cheat = ProductProof.prove(
            a: a, b: b, productBlinding: gamma, commitments: (statement.a, statement.b, wrongProduct),
            context: context, using: &rng)
        #expect(!cheat.verify(commitments: (statement.a, statement.b, wrongProduct), context: context))
        // Feldman-style B (blinding zero), as used for key shares X_i.
        let x = VerifiableShare(value: .random(using: &rng))
        let px = VerifiableShare(value: a.value * x.value, blinding: gamma)
        let st2 = (a: a.commitment, b: Point.generatorMultiple(x.value), c: px.commitment)
        let proof2 = ProductProof.prove(a: a, b: x, productBlinding: gamma, commitments: st2, context: context, using: &rng)
        #expect(proof2.verify(commitments: st2, context: context))
    }
}
