// Goal: the constant-time multiplication used for secret scalars computes the same points as the variable-time
// one kept for public scalars; share encryption opens only with the right key and context; the equality proof
// that backs a complaint accepts exactly the statement it was made for.
// Method: seeded random scalars and points, compared across both paths, plus one tampering per input.
import SimulationSupport
import Testing
import TestSupport

@testable import MPC
@testable import Secp256k1

@Suite(.dedicatedThread) struct SecretArithmeticTests {
    @Test func timesSecretAgreesWithTimesPublic() {
        var rng = DeterministicRNG(seed: 80)
        for _ in 0..<64 {
            let p = Point.generatorMultiple(Scalar.randomNonZero(using: &rng))
            let k = Scalar.random(using: &rng)
            #expect(p.timesSecret(k) == p.timesPublic(k))
        }
        let p = Point.generatorMultiple(Scalar(7))
        #expect(p.timesSecret(.zero) == .identity)
        #expect(Point.identity.timesSecret(Scalar(3)) == .identity)
        #expect(p.timesSecret(.one) == p)
        #expect(p.timesSecret(-Scalar.one) == -p)
        #expect(Point.generator.timesSecret(Scalar(5)) == Point.generatorMultiple(Scalar(5)))
    }

    @Test func sharesOpenOnlyWithTheirKeyAndContext() throws {
        var rng = DeterministicRNG(seed: 81)
        let session = SessionID(purpose: "test", epoch: 0, label: "encryption")
        let receiver = MemberIdentity.random(using: &rng)
        let e = Scalar.randomNonZero(using: &rng)
        let ephemeral = Point.generatorMultiple(e)
        let shares = [VerifiableShare(value: .random(using: &rng), blinding: .random(using: &rng))]
        let ad = ShareEncryption.associatedData(session: session, dealer: 1, receiver: 2)
        let key = ShareEncryption.key(
            shared: receiver.publicKey.timesSecret(e), session: session, dealer: 1, receiver: 2, ephemeral: ephemeral)
        let box = ShareEncryption.seal(shares, key: key, associatedData: ad)
        #expect(box.count == ShareEncryption.ciphertextBytes(sharings: 1))
        // The receiver derives the same key from its side of the ECDH.
        let theirs = ShareEncryption.key(
            shared: ephemeral.timesSecret(receiver.secret), session: session, dealer: 1, receiver: 2, ephemeral: ephemeral)
        #expect(ShareEncryption.open(box, sharings: 1, key: theirs, associatedData: ad) == shares)
        var flipped = box
        flipped[3] ^= 1
        #expect(ShareEncryption.open(flipped, sharings: 1, key: theirs, associatedData: ad) == nil)
        let otherAD = ShareEncryption.associatedData(session: session, dealer: 1, receiver: 3)
        #expect(ShareEncryption.open(box, sharings: 1, key: theirs, associatedData: otherAD) == nil)
        let otherKey = ShareEncryption.key(
            shared: ephemeral.timesSecret(receiver.secret), session: session, dealer: 3, receiver: 2, ephemeral: ephemeral)
        #expect(ShareEncryption.open(box, sharings: 1, key: otherKey, associatedData: ad) == nil)
    }

    @Test func equalityProofBindsKeyBaseAndContext() {
        var rng = DeterministicRNG(seed: 82)
        let identity = MemberIdentity.random(using: &rng)
        let base = Point.generatorMultiple(Scalar.randomNonZero(using: &rng))
        let shared = base.timesSecret(identity.secret)
        let context = Array("ctx".utf8)
        let proof = EqualityProof.prove(secret: identity.secret, base: base, context: context, using: &rng)
        #expect(proof.verify(publicKey: identity.publicKey, base: base, shared: shared, context: context))
        #expect(!proof.verify(publicKey: identity.publicKey, base: base, shared: shared + .generator, context: context))
        #expect(!proof.verify(publicKey: identity.publicKey, base: base + .generator, shared: shared, context: context))
        #expect(!proof.verify(publicKey: identity.publicKey + .generator, base: base, shared: shared, context: context))
        #expect(!proof.verify(publicKey: identity.publicKey, base: base, shared: shared, context: Array("other".utf8)))
    }
}
