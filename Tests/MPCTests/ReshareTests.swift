// Goal: resharing keeps X across committees and thresholds, new shares sign, old presignatures and shares of
// other epochs are refused, and a dealer that tries to shift the key is named.
// Method: three reshares to changing committees from a seeded run; signatures after each; mixing epochs.
import SimulationSupport
import Testing
import TestSupport

@testable import MPC
@testable import Secp256k1

@Suite(.dedicatedThread) struct ReshareTests {
    @Test func threeResharesKeepTheKeyAndSign() throws {
        var rng = DeterministicRNG(seed: 50)
        var shares = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        let original = shares[0].publicData.publicKey
        var released: [ThresholdSignature] = []
        for (step, (t, n)) in [(2, 7), (1, 4), (3, 10)].enumerated() {
            let network = try MPCSimulation.reshare(
                oldShares: shares, newParameters: try CommitteeParameters(size: n, threshold: t),
                label: "reshare \(step)", rng: &rng)
            #expect(network.sessions.allSatisfy { $0.status == .finished })
            let next = network.sessions.compactMap(\.newKeyShare)
            try #require(next.count == n)
            #expect(next.allSatisfy { $0.publicData.publicKey == original && $0.epoch == UInt64(step + 1) })
            #expect(next.allSatisfy { $0.threshold == t })
            // Old members know the new public data too.
            #expect(network.sessions[0].newPublicData == next[0].publicData)
            shares = next
            var presign = try MPCSimulation.presign(keyShares: shares, count: 1, label: "after \(step)", rng: &rng)
            var ledgers = shares.map { PresignatureLedger(epoch: $0.epoch) }
            var combiners = try Fixtures.sign(
                digests: [Fixtures.digest(step)], presign: &presign, signers: Array(0..<(2 * t + 1)), ledgers: &ledgers)
            let signatureCandidate = combiners[0].combine()
            let signature = try #require(signatureCandidate)
            try Fixtures.checkLocally(signature, key: shares[0].publicData)
            released.append(signature)
        }
        try Fixtures.verifyWithOracle(released)
    }

    @Test func oldEpochMaterialIsRefused() throws {
        var rng = DeterministicRNG(seed: 51)
        let old = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        var oldPresign = try MPCSimulation.presign(keyShares: old, count: 1, rng: &rng)
        let network = try MPCSimulation.reshare(
            oldShares: old, newParameters: try CommitteeParameters(size: 4, threshold: 1), rng: &rng)
        let new = network.sessions.compactMap(\.newKeyShare)
        try #require(new.count == 4)
        var newPresign = try MPCSimulation.presign(keyShares: new, count: 1, label: "new", rng: &rng)
        let digest = Fixtures.digest(1)

        // An old-epoch presignature cannot be used once the ledger moved to the new epoch.
        var ledger = PresignatureLedger(epoch: 0)
        try ledger.advance(to: 1)
        var oldBatch = oldPresign.sessions[0].takePresignatures()
        guard let oldPresignature = oldBatch.next() else { Issue.record("no presignature"); return }
        do {
            let oldPresignatureAssignment = try Fixtures.assign(oldPresignature, digest)
            _ = try oldPresignature.signatureShare(for: oldPresignatureAssignment, ledger: &ledger)
            Issue.record("an old-epoch presignature was accepted")
        } catch {
            #expect(error == .staleEpoch(expected: 1, got: 0))
        }
        // A combiner for the new key refuses an old presignature, and shares of the other epoch.
        #expect(throws: MPCError.staleEpoch(expected: 1, got: 0)) {
            _ = try SignatureCombiner(presignature: oldPresign.sessions[1].publicData[0], key: new[0].publicData, digest: digest)
        }
        var combiner = try SignatureCombiner(
            presignature: newPresign.sessions[0].publicData[0], key: new[0].publicData, digest: digest)
        var oldLedger = PresignatureLedger(epoch: 0)
        var otherBatch = oldPresign.sessions[1].takePresignatures()
        guard let otherOld = otherBatch.next() else { Issue.record("no presignature"); return }
        let otherOldAssignment = try Fixtures.assign(otherOld, digest)
        let oldShare = try otherOld.signatureShare(for: otherOldAssignment, ledger: &oldLedger)
        #expect(throws: MPCError.staleEpoch(expected: 1, got: 0)) { try combiner.add(oldShare) }
        // New shares still combine.
        var ledgers = new.map { PresignatureLedger(epoch: $0.epoch) }
        for slot in 0..<3 {
            var batch = newPresign.sessions[slot].takePresignatures()
            guard let presignature = batch.next() else { Issue.record("no presignature"); return }
            let presignatureAssignment = try Fixtures.assign(presignature, digest)
            try combiner.add(try presignature.signatureShare(for: presignatureAssignment, ledger: &ledgers[slot]))
        }
        let signatureCandidate = combiner.combine()
        let signature = try #require(signatureCandidate)
        try Fixtures.checkLocally(signature, key: new[0].publicData)
    }

    @Test func dealerShiftingTheKeyIsNamedAndIgnored() throws {
        var rng = DeterministicRNG(seed: 52)
        let old = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        // Old member 2 deals x_2 + 1 instead of x_2: its commitment's constant is not X_2.
        let shift: (MPCMessage) -> [MPCMessage] = { message in
            guard case .dealing(let d) = message.payload else { return [message] }
            let c = d.commitments
            let shifted = Dealing(
                commitments: [[c[0][0] + Point.generator] + c[0].dropFirst()], ephemeralKey: d.ephemeralKey,
                ciphertexts: d.ciphertexts)
            return [MPCMessage(session: message.session, sender: message.sender, recipient: nil, round: message.round,
                               payload: .dealing(shifted))]
        }
        let network = try MPCSimulation.reshare(
            oldShares: old, newParameters: try CommitteeParameters(size: 7, threshold: 2), rng: &rng,
            behaviours: [1: shift])
        let new = network.sessions.compactMap(\.newKeyShare)
        try #require(new.count == 7)
        #expect(new.allSatisfy { $0.publicData.publicKey == old[0].publicData.publicKey })
        for slot in [0, 2, 3] + Array(4..<11) {
            #expect(network.sessions[slot].misbehaviour.contains(.invalidCommitment(culprit: 2)))
        }
    }
}
