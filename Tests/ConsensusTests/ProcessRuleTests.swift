import Consensus
import Testing
import TestSupport

/// One test per rule of Algorithm 1, driving `ConsensusProcess.handle` directly. Committee of 4 (f = 1, quorum 3);
/// we are validator 0; proposer(1, r) = (1 + r) mod 4, so validator 1 proposes round 0 and validator 3 round 2.
@Suite(.dedicatedThread) struct ProcessRuleTests {
    let c = Committee(4)
    let v = TestApplication.value(1, 0)
    let w = TestApplication.value(1, 1, "w")

    @Test func startSchedulesProposeTimeoutForNonProposer() {  // L10–L21
        var p = c.process(0)
        let out = p.handle(.start)
        #expect(out.broadcasts.isEmpty)
        #expect(out.timeouts.map(\.0) == [Timeout(step: .propose, height: 1, round: 0)])
        #expect(p.round == 0 && p.step == .propose)
    }

    @Test func proposerBroadcastsProposalAndPrevotes() {  // L14–L19, then L22 on its own proposal
        var p = c.process(1)
        let out = p.handle(.start)
        #expect(out.broadcasts == [.proposal(Proposal(height: 1, round: 0, validRound: nil, value: v)), prevote(0, v)])
        #expect(p.step == .prevote)
    }

    @Test func validFreshProposalGetsPrevote() {  // L22–L24, L27
        var p = c.process(0)
        _ = p.handle(.start)
        let out = p.handle(c.proposal(1, r: 0, v))
        #expect(out.broadcasts == [prevote(0, v)])
        #expect(p.step == .prevote)
        // The WAL entry precedes the broadcast.
        #expect(out.firstIndex { if case .persist = $0 { true } else { false } }! < out.firstIndex { if case .broadcast = $0 { true } else { false } }!)
    }

    @Test func invalidProposalGetsNilPrevote() {  // L23 false → L26
        var p = c.process(0, app: TestApplication(invalid: [v]))
        _ = p.handle(.start)
        #expect(p.handle(c.proposal(1, r: 0, v)).broadcasts == [prevote(0, nil)])
    }

    @Test func proposalFromWrongProposerIsEvidenceAndIgnored() {  // proposer(h, r) check, out-of-turn evidence
        var p = c.process(0)
        _ = p.handle(.start)
        let out = p.handle(c.proposal(2, r: 0, v))
        #expect(out.broadcasts.isEmpty)
        #expect(out.evidence.count == 1)
        if case .outOfTurnPropose = out.evidence.first {} else { Issue.record("expected out-of-turn evidence") }
    }

    @Test func proposeTimeoutPrevotesNil() {  // L57–L60
        var p = c.process(0)
        _ = p.handle(.start)
        #expect(p.handle(.timeout(Timeout(step: .propose, height: 1, round: 0))).broadcasts == [prevote(0, nil)])
        // A stale timeout does nothing.
        #expect(p.handle(.timeout(Timeout(step: .propose, height: 1, round: 0))).isEmpty)
    }

    @Test func quorumOfPrevotesLocksAndPrecommits() {  // L34, L36–L43
        var p = c.process(0)
        _ = p.handle(.start)
        _ = p.handle(c.proposal(1, r: 0, v))
        _ = p.handle(c.prevote(1, r: 0, v))
        let out = p.handle(c.prevote(2, r: 0, v))
        #expect(out.broadcasts == [precommit(0, v)])
        #expect(out.timeouts.map(\.0) == [Timeout(step: .prevote, height: 1, round: 0)])
        #expect(p.locked == RoundValue(value: v, round: 0) && p.valid == RoundValue(value: v, round: 0))
        #expect(out.persisted.contains(.locked(height: 1, RoundValue(value: v, round: 0))))
        #expect(p.step == .precommit)
    }

    @Test func quorumOfNilPrevotesPrecommitsNil() {  // L44–L46
        var p = c.process(0)
        _ = p.handle(.start)
        _ = p.handle(.timeout(Timeout(step: .propose, height: 1, round: 0)))
        _ = p.handle(c.prevote(1, r: 0, nil))
        #expect(p.handle(c.prevote(2, r: 0, nil)).broadcasts == [precommit(0, nil)])
    }

    @Test func prevoteTimeoutPrecommitsNil() {  // L61–L64
        var p = c.process(0)
        _ = p.handle(.start)
        _ = p.handle(.timeout(Timeout(step: .propose, height: 1, round: 0)))
        _ = p.handle(c.prevote(1, r: 0, v))
        _ = p.handle(c.prevote(2, r: 0, nil))
        #expect(p.handle(.timeout(Timeout(step: .prevote, height: 1, round: 0))).broadcasts == [precommit(0, nil)])
    }

    @Test func quorumOfPrecommitsDecides() {  // L47, L49–L54
        var p = c.process(0)
        _ = p.handle(.start)
        _ = p.handle(c.precommit(1, r: 0, v))
        _ = p.handle(c.precommit(2, r: 0, v))
        let early = p.handle(c.precommit(3, r: 0, v))
        #expect(early.commits.isEmpty, "no decision without the proposal")
        #expect(early.timeouts.map(\.0) == [Timeout(step: .precommit, height: 1, round: 0)])
        let out = p.handle(c.proposal(1, r: 0, v))
        #expect(out.commits.count == 1 && out.commits[0].value == v && out.commits[0].precommits.count == 3)
        #expect(p.height == 2 && p.round == 0 && p.locked == nil && p.valid == nil)
        #expect(p.app.commits.map(\.value) == [v])
        let verified = try? out.commits[0].verify(against: c.validators, with: Secp256k1Verifier())
        #expect(verified != nil)
    }

    @Test func decidesInAnEarlierRound() {  // L49 holds for any round r, not only the current one
        var p = c.process(0)
        _ = p.handle(.start)
        for i in 1...3 { _ = p.handle(c.precommit(i, r: 0, v)) }
        _ = p.handle(.timeout(Timeout(step: .precommit, height: 1, round: 0)))
        #expect(p.round == 1 && p.height == 1)
        // The round-0 proposal arrives late: the round-0 precommits decide it.
        let out = p.handle(c.proposal(1, r: 0, v))
        #expect(out.commits.map(\.round) == [0])
        #expect(p.height == 2)
    }

    @Test func precommitTimeoutStartsNextRoundWithGrowingTimeout() {  // L65–L67, timeouts grow with the round
        var p = c.process(0)
        _ = p.handle(.start)
        let out = p.handle(.timeout(Timeout(step: .precommit, height: 1, round: 0)))
        #expect(p.round == 1 && p.step == .propose)
        #expect(out.timeouts.map(\.1) == [Committee.timeouts.duration(.propose, round: 1)])
        #expect(Committee.timeouts.duration(.propose, round: 1) > Committee.timeouts.duration(.propose, round: 0))
    }

    @Test func fPlusOneHigherRoundSendersSkipAhead() {  // L55–L56
        var p = c.process(0)
        _ = p.handle(.start)
        _ = p.handle(c.prevote(2, r: 5, nil))
        #expect(p.round == 0, "one sender (f) is not enough")
        _ = p.handle(c.precommit(3, r: 7, nil))
        #expect(p.round == 5, "f+1 senders at rounds ≥ 5")
    }

    /// Locked on v in round 0, a fresh proposal of w in round 2 gets a nil prevote; with the injected fault it
    /// would get a prevote for w.
    @Test(arguments: [false, true])
    func lockIsRespectedUnlessFaultInjected(ignoreLock: Bool) {  // L23: lockedRound = −1 ∨ lockedValue = v
        var p = c.process(0, faults: InjectedFaults(ignoreLock: ignoreLock))
        _ = p.handle(.start)
        _ = p.handle(c.proposal(1, r: 0, v))
        _ = p.handle(c.prevote(1, r: 0, v))
        _ = p.handle(c.prevote(2, r: 0, v))
        #expect(p.locked?.value == v)
        _ = p.handle(.timeout(Timeout(step: .precommit, height: 1, round: 0)))
        _ = p.handle(.timeout(Timeout(step: .precommit, height: 1, round: 1)))
        #expect(p.round == 2)
        let out = p.handle(c.proposal(3, r: 2, w))
        #expect(out.broadcasts == [prevote(2, ignoreLock ? w : nil)])
    }

    @Test func reproposalBackedByNewerPolkaUnlocks() {  // L28–L33: lockedRound ≤ vr
        var p = c.process(0)
        _ = p.handle(.start)
        _ = p.handle(c.proposal(1, r: 0, v))
        _ = p.handle(c.prevote(1, r: 0, v))
        _ = p.handle(c.prevote(2, r: 0, v))
        _ = p.handle(.timeout(Timeout(step: .precommit, height: 1, round: 0)))
        // Round 1: a polka for w that we did not take part in.
        for i in 1...3 { _ = p.handle(c.prevote(i, r: 1, w)) }
        _ = p.handle(.timeout(Timeout(step: .precommit, height: 1, round: 1)))
        let out = p.handle(c.proposal(3, r: 2, vr: 1, w))
        #expect(out.broadcasts == [prevote(2, w)])
    }

    @Test func reproposalWithOlderPolkaThanLockGetsNil() {  // L29 false: lockedRound > vr and lockedValue ≠ v
        var p = c.process(0)
        _ = p.handle(.start)
        for i in 1...3 { _ = p.handle(c.prevote(i, r: 0, w)) }  // polka for w in round 0, no proposal seen
        _ = p.handle(.timeout(Timeout(step: .propose, height: 1, round: 0)))
        _ = p.handle(.timeout(Timeout(step: .prevote, height: 1, round: 0)))
        _ = p.handle(.timeout(Timeout(step: .precommit, height: 1, round: 0)))
        // Round 1: lock on v.
        _ = p.handle(c.proposal(2, r: 1, v))
        _ = p.handle(c.prevote(2, r: 1, v))
        _ = p.handle(c.prevote(3, r: 1, v))
        #expect(p.locked == RoundValue(value: v, round: 1))
        _ = p.handle(.timeout(Timeout(step: .precommit, height: 1, round: 1)))
        #expect(p.handle(c.proposal(3, r: 2, vr: 0, w)).broadcasts == [prevote(2, nil)])
    }

    @Test func doubleVoteIsEvidenceAndBothVotesCount() {
        var p = c.process(0)
        _ = p.handle(.start)
        _ = p.handle(c.prevote(2, r: 0, v))
        let out = p.handle(c.prevote(2, r: 0, nil))
        #expect(out.evidence.count == 1)
        guard case .doublePrevote(let a, let b)? = out.evidence.first else {
            Issue.record("expected double prevote")
            return
        }
        #expect(a.message == prevote(0, v) && b.message == prevote(0, nil))
        let checked: Void? = try? out.evidence[0].verify(validators: c.validators, scheduler: RoundRobinScheduler(),
                                                         with: Secp256k1Verifier())
        #expect(checked != nil)
        #expect(p.handle(c.prevote(2, r: 0, v)).isEmpty, "an identical duplicate is silently dropped")
    }
}
