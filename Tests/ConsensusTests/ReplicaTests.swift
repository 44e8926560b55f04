import Consensus
import Testing
import TestSupport

/// The replica's network duties that the process rules do not cover.
@Suite(.dedicatedThread) struct ReplicaTests {
    let c = Committee(4)

    /// Node 3 precommitted nil in round 0, moved on to round 1, prevoted there, and crashed: its log is gone, only
    /// the WAL remains. The replica built from it, restarted.
    func restartedInRoundOne() -> Replica<TestApplication> {
        var wal = InMemoryWAL()
        var p = c.process(3)
        var effects = p.handle(.start)
        effects += p.handle(.timeout(Timeout(step: .propose, height: 1, round: 0)))  // prevote nil
        effects += p.handle(c.prevote(0, r: 0, nil)) + p.handle(c.prevote(1, r: 0, nil))  // L44: precommit nil
        effects += p.handle(c.precommit(0, r: 0, nil)) + p.handle(c.precommit(1, r: 0, nil))  // L47
        effects += p.handle(.timeout(Timeout(step: .precommit, height: 1, round: 0)))  // round 1
        effects += p.handle(.timeout(Timeout(step: .propose, height: 1, round: 1)))  // prevote nil in round 1
        for e in effects.persisted { wal.append(e) }
        let restored = ConsensusProcess(restoringHeight: 1, from: wal.entries(height: 1), validators: c.validators,
                                        signer: c.signers[3], app: TestApplication(),
                                        configuration: .init(timeouts: Committee.timeouts))
        var replica = Replica(process: restored, verifier: Secp256k1Verifier())
        _ = replica.start()
        return replica
    }

    func answers(_ effects: [ReplicaEffect]) -> [(ConsensusMessage, ValidatorKey)] {
        effects.compactMap {
            guard case .send(let bytes, let to) = $0, let m = try? SignedMessage.decode(bytes[...]) else { return nil }
            return (m.message, to)
        }
    }

    /// Goal: a peer stuck in an earlier round of our height gets our messages of that round, even after a restart
    /// emptied our log (the SIM_SEED=880 stall: two honest nodes waited forever for the round-0 precommit of a third
    /// that had crashed and resumed in round 1). Method: the restarted replica receives the peer's round-0 precommit
    /// and must send back its own round-0 precommit, once per tick, also for the duplicate bytes the peer resends.
    @Test func peerInAnEarlierRoundGetsOurMessagesOfThatRound() {
        var replica = restartedInRoundOne()
        #expect(replica.process.round == 1)
        let stuck = SignedMessage.sign(precommit(0, nil), with: c.signers[0]).wireBytes
        let first = answers(replica.receive(stuck))
        #expect(first.contains { $0.0 == precommit(0, nil) && $0.1 == c.signers[0].key })
        #expect(first.allSatisfy { $0.0.round == 0 && $0.1 == c.signers[0].key })
        #expect(answers(replica.receive(stuck)).isEmpty, "one answer per peer per tick")
        _ = replica.tick()
        let again = answers(replica.receive(stuck))
        #expect(again.contains { $0.0 == precommit(0, nil) }, "the resent duplicate is answered after a tick")
    }

    /// Goal: the answer is not an amplifier for forged or current-round packets. Method: a round-0 precommit with
    /// a corrupted signature and a round-1 message get no answer.
    @Test func onlyAuthenticEarlierRoundMessagesAreAnswered() {
        var replica = restartedInRoundOne()
        var forged = SignedMessage.sign(precommit(0, nil), with: c.signers[0]).wireBytes
        forged[forged.count - 10] ^= 1
        #expect(answers(replica.receive(forged)).isEmpty)
        let current = SignedMessage.sign(prevote(1, nil), with: c.signers[1]).wireBytes
        #expect(answers(replica.receive(current)).isEmpty)
    }
}
