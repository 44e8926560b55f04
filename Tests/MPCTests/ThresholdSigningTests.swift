// Goal: key generation, batched presignatures and one-round signing produce ordinary ECDSA signatures under
// the shard key for (t, n) ∈ {(1,4), (2,7), (4,13), (10,31)}, accepted by libsecp256k1 and by an independent
// Python verifier (python-ecdsa + coincurve), with the recovery id giving the shard's EVM address.
// Method: whole committees run over the in-process LocalNetwork from a fixed seed; every signature is checked
// locally and by the oracle. (10,31) makes a single signature to keep the debug-build test short.
import SimulationSupport
import Testing
import TestSupport

@testable import MPC
@testable import Secp256k1

@Suite(.dedicatedThread) struct ThresholdSigningTests {
    @Test(arguments: [(1, 4, 3), (2, 7, 3), (4, 13, 2), (10, 31, 1)])
    func signaturesVerifyEverywhere(t: Int, n: Int, signatures: Int) throws {
        var rng = DeterministicRNG(seed: UInt64(100 + n))
        let shares = try Fixtures.keyShares(t: t, n: n, rng: &rng)
        let key = shares[0].publicData
        // Everyone agrees on X and on every X_j; x interpolates to X.
        #expect(shares.allSatisfy { $0.publicData == key })
        let indices = Array(1...(t + 1))
        let x = Lagrange.interpolate(indices: indices, values: indices.map { shares[$0 - 1].secretForTesting })
        #expect(Point.generatorMultiple(x) == key.publicKey)

        var presign = try MPCSimulation.presign(keyShares: shares, count: signatures, rng: &rng)
        #expect(presign.sessions.allSatisfy { $0.status == .finished })
        #expect(presign.sessions.allSatisfy { $0.misbehaviour.isEmpty })
        let digests = (0..<signatures).map(Fixtures.digest)
        var ledgers = shares.map { PresignatureLedger(epoch: $0.epoch) }
        // Signers: 2t + 1 of them, not the first ones, to use a non-trivial signer set.
        let signers = Array((n - (2 * t + 1))..<n)
        var combiners = try Fixtures.sign(digests: digests, presign: &presign, signers: signers, ledgers: &ledgers)
        var released: [ThresholdSignature] = []
        for k in combiners.indices {
            let signatureCandidate = combiners[k].combine()
            let signature = try #require(signatureCandidate)
            try Fixtures.checkLocally(signature, key: key)
            #expect(combiners[k].misbehaviour.isEmpty)
            released.append(signature)
        }
        try Fixtures.verifyWithOracle(released)
    }

    @Test func everyHonestShareChecksAgainstPublicCommitments() throws {
        var rng = DeterministicRNG(seed: 7)
        let shares = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        var presign = try MPCSimulation.presign(keyShares: shares, count: 1, rng: &rng)
        var ledgers = shares.map { PresignatureLedger(epoch: $0.epoch) }
        let digest = Fixtures.digest(1)
        var combiner = try SignatureCombiner(
            presignature: presign.sessions[0].publicData[0], key: shares[0].publicData, digest: digest)
        for slot in 0..<4 {
            var batch = presign.sessions[slot].takePresignatures()
            guard let presignature = batch.next() else {
                Issue.record("no presignature")
                return
            }
            let presignatureAssignment = try Fixtures.assign(presignature, digest)
            let share = try presignature.signatureShare(for: presignatureAssignment, ledger: &ledgers[slot])
            #expect(combiner.isValid(share))
            var bad = share
            bad = SignatureShare(
                presignatureID: share.presignatureID, epoch: share.epoch, signer: share.signer, digest: share.digest,
                value: share.value + .one, blinding: share.blinding)
            #expect(!combiner.isValid(bad))
            try combiner.add(share)
        }
        let combined = combiner.combine()
        #expect(combined != nil)
    }
}
