// Goal: a presignature id is refused the second time at runtime (the compile-time half — a `Presignature`
// is ~Copyable and `signatureShare` consumes it — is shown in the doc comment of `Presignature` and in
// docs/mpc.md); sessions refuse malformed, stale, out-of-session and late messages with typed errors; a
// session that runs past its deadline fails with `sessionExpired`.
// Method: drive sessions directly with hand-made messages and virtual time.
import SimulationSupport
import Testing
import TestSupport

@testable import MPC
@testable import Secp256k1

@Suite(.dedicatedThread) struct SessionHygieneTests {
    @Test func repeatedPresignatureIdIsRefused() throws {
        var rng = DeterministicRNG(seed: 60)
        let shares = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        var presign = try MPCSimulation.presign(keyShares: shares, count: 1, rng: &rng)
        // A copy of the session (e.g. state restored from a backup) holds the same presignature material.
        var restored = presign.sessions[0]
        var ledger = PresignatureLedger(epoch: 0)
        var batch = presign.sessions[0].takePresignatures()
        guard let first = batch.next() else {
            Issue.record("no presignature")
            return
        }
        let id = first.id
        let firstAssignment = try Fixtures.assign(first, Fixtures.digest(1))
        _ = try first.signatureShare(for: firstAssignment, ledger: &ledger)
        // The original session hands its presignatures out only once.
        let again = presign.sessions[0].takePresignatures()
        #expect(again.count == 0)
        var copyBatch = restored.takePresignatures()
        guard let copy = copyBatch.next() else {
            Issue.record("the restored copy has no presignature")
            return
        }
        #expect(copy.id == id)
        do {
            let copyAssignment = try Fixtures.assign(copy, Fixtures.digest(2))
            _ = try copy.signatureShare(for: copyAssignment, ledger: &ledger)
            Issue.record("a repeated presignature id was accepted")
        } catch {
            #expect(error == .presignatureAlreadyUsed(id))
        }
        #expect(ledger.hasUsed(id))
    }

    @Test func sessionsRefuseForeignStaleAndMalformedMessages() throws {
        var rng = DeterministicRNG(seed: 61)
        let parameters = try CommitteeParameters(size: 4, threshold: 1)
        let id = SessionID(purpose: "keygen", epoch: 0, label: "hygiene")
        let identities = (0..<4).map { _ in MemberIdentity.random(using: &rng) }
        var session = try KeyGenerationSession(
            session: id, parameters: parameters, me: 1, identity: identities[0], identities: identities.map(\.publicKey),
            rng: ForkedRNG(seed: 1))
        let dealing = MPCPayload.dealing(
            Dealing(commitments: [[Point.generator, Point.generator]], ephemeralKey: Point.generator, ciphertexts: []))
        _ = session.start(now: .zero)
        func message(in session: SessionID = id, sender: Int = 2, recipient: Int? = nil, round: Int = 1,
                     _ payload: MPCPayload) -> MPCMessage {
            MPCMessage(session: session, sender: sender, recipient: recipient, round: round, payload: payload)
        }
        let other = SessionID(purpose: "keygen", epoch: 0, label: "other")
        #expect(throws: MPCError.wrongSession) { try session.handle(message(in: other, dealing), now: .zero) }
        #expect(throws: MPCError.unknownSender(9)) { try session.handle(message(sender: 9, dealing), now: .zero) }
        #expect(throws: MPCError.unexpectedPayload(round: 1)) {
            try session.handle(message(.complaints([])), now: .zero)
        }
        // Every protocol message is a broadcast: a direct one is refused.
        #expect(throws: MPCError.unexpectedPayload(round: 1)) {
            try session.handle(message(recipient: 1, dealing), now: .zero)
        }
        #expect(throws: MPCError.malformed("Feldman reveal needs t + 1 points")) {
            try session.handle(message(round: 3, .feldmanReveal([Point.generator])), now: .zero)
        }
        #expect(throws: MPCError.unexpectedPayload(round: 9)) {
            try session.handle(message(round: 9, .complaints([])), now: .zero)
        }
        try session.handle(message(dealing), now: .zero)
        #expect(throws: MPCError.duplicate) { try session.handle(message(dealing), now: .zero) }
        // The local timer alone closes nothing: it only makes this member vote.
        let votes = session.tick(now: .seconds(5))
        #expect(votes.map(\.payload) == [.roundTimeout])
        #expect(session.round == 1)
        // The round closes where t + 1 = 2 votes have been delivered, for everyone at the same point.
        try session.handle(message(sender: 3, .roundTimeout), now: .seconds(5))
        #expect(session.round == 1)
        #expect(throws: MPCError.duplicate) { try session.handle(message(sender: 3, .roundTimeout), now: .seconds(5)) }
        try session.handle(message(sender: 1, .roundTimeout), now: .seconds(5))
        #expect(session.round == 2)
        // After the round closes, a message for it is stale.
        #expect(throws: MPCError.unexpectedRound(expected: 2, got: 1)) {
            try session.handle(message(sender: 3, dealing), now: .seconds(5))
        }
        // Past the session deadline everything is refused and the session fails.
        let late = SessionTiming().sessionTimeout + .seconds(1)
        #expect(throws: MPCError.sessionExpired) { try session.handle(message(round: 2, .complaints([])), now: late) }
        _ = session.tick(now: late)
        #expect(session.status == .failed(.sessionExpired))
        #expect(throws: MPCError.sessionFinished) { try session.handle(message(round: 2, .complaints([])), now: late) }
    }

    @Test func parametersAreValidated() {
        #expect(throws: MPCError.self) { try CommitteeParameters(size: 6, threshold: 2) }
        // n ≥ 3t + 2 would let two disjoint honest signer groups finish with one R (docs/mpc.md).
        #expect(throws: MPCError.self) { try CommitteeParameters(size: 8, threshold: 2) }
        #expect(throws: MPCError.self) { try CommitteeParameters(size: 5, threshold: 1) }
        #expect(throws: MPCError.self) { try CommitteeParameters(size: 4, threshold: 0) }
        #expect((try? CommitteeParameters(size: 7, threshold: 2)) != nil)
    }

    @Test func presignatureSignsOnlyItsAssignment() throws {
        var rng = DeterministicRNG(seed: 63)
        let shares = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        var presign = try MPCSimulation.presign(keyShares: shares, count: 3, rng: &rng)
        var ledger = PresignatureLedger(epoch: 0)
        var batch = presign.sessions[0].takePresignatures()
        guard let first = batch.next(), let second = batch.next(), let third = batch.next() else {
            Issue.record("no presignatures")
            return
        }
        let (firstID, thirdID) = (first.id, third.id)
        // An assignment for another id, or for another epoch, is refused and does not use up the id.
        let otherID = try PresignatureAssignment(id: second.id, digest: Fixtures.digest(1), epoch: 0)
        let otherEpoch = try PresignatureAssignment(id: thirdID, digest: Fixtures.digest(1), epoch: 1)
        do {
            _ = try first.signatureShare(for: otherID, ledger: &ledger)
            Issue.record("a share for another presignature's assignment was made")
        } catch {
            #expect(error == .assignmentMismatch)
        }
        do {
            _ = try third.signatureShare(for: otherEpoch, ledger: &ledger)
            Issue.record("a share for another epoch's assignment was made")
        } catch {
            #expect(error == .assignmentMismatch)
        }
        #expect(!ledger.hasUsed(firstID) && !ledger.hasUsed(thirdID))
        // Its own assignment signs.
        let share = try second.signatureShare(for: otherID, ledger: &ledger)
        #expect(share.digest == Fixtures.digest(1))
    }

    @Test func combinerRefusesMismatchedShares() throws {
        var rng = DeterministicRNG(seed: 62)
        let shares = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        var presign = try MPCSimulation.presign(keyShares: shares, count: 2, rng: &rng)
        let publicData = presign.sessions[0].publicData
        var combiner = try SignatureCombiner(presignature: publicData[0], key: shares[0].publicData, digest: Fixtures.digest(1))
        var ledger = PresignatureLedger(epoch: 0)
        var batch = presign.sessions[0].takePresignatures()
        guard let p0 = batch.next(), let p1 = batch.next() else {
            Issue.record("no presignatures")
            return
        }
        let p0Assignment = try Fixtures.assign(p0, Fixtures.digest(1))
        let share0 = try p0.signatureShare(for: p0Assignment, ledger: &ledger)
        let p1Assignment = try Fixtures.assign(p1, Fixtures.digest(1))
        let share1 = try p1.signatureShare(for: p1Assignment, ledger: &ledger)
        #expect(throws: MPCError.shareMismatch) { try combiner.add(share1) }  // another presignature
        try combiner.add(share0)
        #expect(throws: MPCError.duplicate) { try combiner.add(share0) }
        #expect(throws: MPCError.malformed("digest must be 32 bytes")) {
            _ = try SignatureCombiner(presignature: publicData[0], key: shares[0].publicData, digest: [1, 2, 3])
        }
    }
}
