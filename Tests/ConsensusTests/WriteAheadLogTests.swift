import Consensus
import Testing
import TestSupport

/// A restarted process, built from its WAL, never signs a second, different message for a (height, round, step)
/// and keeps its lock.
@Suite(.dedicatedThread) struct WriteAheadLogTests {
    let c = Committee(4)
    let v = TestApplication.value(1, 0)

    func restore(_ i: Int, _ wal: InMemoryWAL, app: TestApplication = TestApplication(proposalTag: "-after-restart"))
        -> ConsensusProcess<TestApplication>
    {
        ConsensusProcess(restoringHeight: 1, from: wal.entries(height: 1), validators: c.validators, signer: c.signers[i],
                         app: app, configuration: .init(timeouts: Committee.timeouts))
    }

    func log(_ effects: [ConsensusEffect], into wal: inout InMemoryWAL) {
        for e in effects.persisted { wal.append(e) }
    }

    @Test func restartedProposerResendsItsProposal() {
        var wal = InMemoryWAL()
        var p = c.process(1)
        let before = p.handle(.start)
        log(before, into: &wal)
        var restarted = restore(1, wal)
        let after = restarted.handle(.start)
        #expect(after.broadcasts.first == before.broadcasts.first, "same proposal, not the restarted app's new value")
        #expect(after.persisted.isEmpty, "nothing new was signed")
        #expect(restarted.refusedSignatures == 0)
    }

    @Test func restartedVoterRefusesAConflictingVote() {
        var wal = InMemoryWAL()
        var p = c.process(0)
        log(p.handle(.start), into: &wal)
        log(p.handle(c.proposal(1, r: 0, v)), into: &wal)  // prevote v
        var restarted = restore(0, wal)
        let resumed = restarted.handle(.start)
        #expect(resumed.broadcasts.contains(prevote(0, v)))
        #expect(restarted.step == .prevote)
        // Without the WAL the process would prevote nil on this timeout; with it there is nothing to do.
        let out = restarted.handle(.timeout(Timeout(step: .propose, height: 1, round: 0)))
        #expect(!out.broadcasts.contains(prevote(0, nil)))
    }

    @Test func guardResendsTheEarlierVoteIfAskedToSignAnother() {
        var wal = InMemoryWAL()
        var p = c.process(0)
        log(p.handle(.start), into: &wal)
        log(p.handle(.timeout(Timeout(step: .propose, height: 1, round: 0))), into: &wal)  // prevote nil
        // The restart forgot its step was past propose if the WAL entry were lost; here it is kept, and a proposal
        // arriving late cannot make it prevote v as well.
        var restarted = restore(0, wal)
        _ = restarted.handle(.start)
        let out = restarted.handle(c.proposal(1, r: 0, v))
        #expect(!out.broadcasts.contains(prevote(0, v)))
    }

    @Test func lockSurvivesRestart() {
        var wal = InMemoryWAL()
        var p = c.process(0)
        log(p.handle(.start), into: &wal)
        for e in [c.proposal(1, r: 0, v), c.prevote(1, r: 0, v), c.prevote(2, r: 0, v)] { log(p.handle(e), into: &wal) }
        #expect(p.locked?.value == v)
        var restarted = restore(0, wal)
        #expect(restarted.locked == RoundValue(value: v, round: 0))
        _ = restarted.handle(.start)
        _ = restarted.handle(.timeout(Timeout(step: .precommit, height: 1, round: 0)))
        _ = restarted.handle(.timeout(Timeout(step: .precommit, height: 1, round: 1)))
        let w = TestApplication.value(1, 2, "w")
        #expect(restarted.handle(c.proposal(3, r: 2, w)).broadcasts == [prevote(2, nil)])
    }

    @Test func discardDropsDecidedHeights() {
        var wal = InMemoryWAL()
        let m = SignedMessage.sign(prevote(0, nil, h: 1), with: c.signers[0])
        let n = SignedMessage.sign(prevote(0, nil, h: 2), with: c.signers[0])
        wal.append(.signed(m))
        wal.append(.signed(n))
        wal.discard(below: 2)
        #expect(wal.entries(height: 1).isEmpty && wal.entries(height: 2) == [.signed(n)])
    }

    /// Goal: a restarted process keeps the polka behind its valid value, so that re-proposing it still carries
    /// the proof of lock L28 asks for (without it, a polka that needed a Byzantine prevote is lost for good:
    /// SIM_SEED=768). Method: node 2 locks v on prevotes from nodes 0 and 1, crashes, restarts from its WAL, and
    /// as proposer of round 1 re-proposes v with validRound 0 and relays nodes 0's and 1's prevotes.
    @Test func restartedProposerRelaysThePolkaOfItsValidValue() {
        var wal = InMemoryWAL()
        var p = c.process(2)
        log(p.handle(.start), into: &wal)
        log(p.handle(c.proposal(1, r: 0, v)), into: &wal)
        log(p.handle(c.prevote(0, r: 0, v)), into: &wal)
        log(p.handle(c.prevote(1, r: 0, v)), into: &wal)
        #expect(p.locked == RoundValue(value: v, round: 0))
        var restarted = restore(2, wal)
        _ = restarted.handle(.start)
        let out = restarted.handle(.timeout(Timeout(step: .precommit, height: 1, round: 0)))
        #expect(out.broadcasts.contains(.proposal(Proposal(height: 1, round: 1, validRound: 0, value: v))))
        let relayed = out.compactMap { effect -> ValidatorKey? in
            guard case .broadcast(let m) = effect, m.message == prevote(0, v) else { return nil }
            return m.signer
        }
        #expect(Set(relayed) == [c.signers[0].key, c.signers[1].key])
    }
}
