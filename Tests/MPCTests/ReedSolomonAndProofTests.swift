// Goal: the robust-opening decoder corrects up to its radius and names the wrong senders, and the product
// proof accepts honest products and rejects every tampered statement.
// Method: seeded random polynomials with chosen corruptions; proofs checked against altered commitments.
import SimulationSupport
import Testing
import TestSupport

@testable import MPC
@testable import Secp256k1

@Suite(.dedicatedThread) struct ReedSolomonAndProofTests {
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
            a: a, bBlinding: b.blinding, productBlinding: gamma, commitments: statement, context: context, using: &rng)
        #expect(proof.verify(commitments: statement, context: context))
        #expect(!proof.verify(commitments: statement, context: Array("other".utf8)))
        let wrongProduct = VerifiableShare(value: a.value * b.value + .one, blinding: gamma).commitment
        #expect(!proof.verify(commitments: (statement.a, statement.b, wrongProduct), context: context))
        // A cheating prover who commits to a wrong product cannot make a proof that verifies.
        let cheat = ProductProof.prove(
            a: a, bBlinding: b.blinding, productBlinding: gamma, commitments: (statement.a, statement.b, wrongProduct),
            context: context, using: &rng)
        #expect(!cheat.verify(commitments: (statement.a, statement.b, wrongProduct), context: context))
        // Feldman-style B (blinding zero), as used for key shares X_i.
        let x = VerifiableShare(value: .random(using: &rng))
        let px = VerifiableShare(value: a.value * x.value, blinding: gamma)
        let st2 = (a: a.commitment, b: Point.generatorMultiple(x.value), c: px.commitment)
        let proof2 = ProductProof.prove(
            a: a, bBlinding: .zero, productBlinding: gamma, commitments: st2, context: context, using: &rng)
        #expect(proof2.verify(commitments: st2, context: context))
        // The key-product proof carries no response that depends on x (item 6): no field of the proof changes
        // when x does, given the same randomness and the same public statement inputs apart from B and C.
        var fixed = DeterministicRNG(seed: 99)
        let x2 = Scalar.random(using: &rng)
        let st3 = (a: a.commitment, b: Point.generatorMultiple(x2), c: VerifiableShare(value: a.value * x2, blinding: gamma).commitment)
        var fixedAgain = DeterministicRNG(seed: 99)
        let p1 = ProductProof.prove(a: a, bBlinding: .zero, productBlinding: gamma, commitments: st2, context: context, using: &fixed)
        let p3 = ProductProof.prove(a: a, bBlinding: .zero, productBlinding: gamma, commitments: st3, context: context, using: &fixedAgain)
        #expect(p3.verify(commitments: st3, context: context))
        // Responses y, w depend on the challenge only through a and α: y − e·a is the same nonce in both.
        let e1 = ProductProof.challenge(context: context, commitments: st2, m: p1.m, m2: p1.m2)
        let e3 = ProductProof.challenge(context: context, commitments: st3, m: p3.m, m2: p3.m2)
        #expect(p1.y - e1 * a.value == p3.y - e3 * a.value)
        #expect(p1.w2 - e1 * gamma == p3.w2 - e3 * gamma)
    }
}
