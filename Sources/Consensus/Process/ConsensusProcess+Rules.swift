// The upon-rules of Algorithm 1, one function per rule, named by the paper's line. `evaluate` re-checks them until
// none fires, so a rule whose condition became true through a step change, a new round or a stored message fires
// as soon as it can (the paper's rules are conditions over the message log, not triggers).

extension ConsensusProcess {
    // MARK: Inputs

    /// After `.start` (L10) or a restart: enter the resumed round and restore the step we had signed up to.
    mutating func resume(_ out: inout [ConsensusEffect]) {
        startRound(restoredRound, &out)
        let signedSteps = ownMessages.keys.filter { $0.round == round }.map(\.step)
        if let highest = signedSteps.max(), highest > step {
            step = highest
        }
        // Re-send what we signed in this round: peers may have missed it when we crashed.
        for s in [Step.prevote, .precommit] {
            if let m = ownMessages[SignSlot(round: round, step: s)] { out.append(.broadcast(m)); insert(verifiedOwn(m), &out) }
        }
        evaluate(round, &out)
    }

    mutating func receive(_ m: VerifiedMessage, _ out: inout [ConsensusEffect]) {
        // Other heights are the replica's business (it buffers future heights and answers lagging peers).
        guard m.message.height == height else { return }
        let r = m.message.round
        if r > round {
            highestRoundBySender[m.validator] = max(highestRoundBySender[m.validator] ?? 0, r)
            if r > round + Limits.roundsAheadStoredMax {
                _ = upon55RoundSkip(&out)
                evaluate(round, &out)
                return
            }
        }
        guard insert(m, &out) else { return }
        evaluate(r, &out)
    }

    /// L57, L61, L65.
    mutating func onTimeout(_ t: Timeout, _ out: inout [ConsensusEffect]) {
        guard t.height == height, t.round == round else { return }
        switch t.step {
        case .propose:
            // L57–60: OnTimeoutPropose — prevote nil if still proposing.
            guard step == .propose else { return }
            sign(.vote(Vote(step: .prevote, height: height, round: round, valueID: nil)), &out)
            step = .prevote
        case .prevote:
            // L61–64: OnTimeoutPrevote — precommit nil if still prevoting.
            guard step == .prevote else { return }
            sign(.vote(Vote(step: .precommit, height: height, round: round, valueID: nil)), &out)
            step = .precommit
        case .precommit:
            // L65–67: OnTimeoutPrecommit — next round, whatever the step.
            guard round < Limits.roundMax else { return }
            startRound(round + 1, &out)
        }
        evaluate(round, &out)
    }

    /// Catch-up: a quorum of precommits for v in some round proves the L49 condition held for them; with valid(v)
    /// (L50) we decide v without the round's messages.
    mutating func decideFromCertificate(_ c: CommitCertificate, _ out: inout [ConsensusEffect]) {
        guard app.isDecidable(c.value, height: height) else { return }
        decide(c, &out)
    }

    // MARK: The rule loop

    /// Fires rules until none applies. `messageRound` is the round of the message that just arrived: L49 is checked
    /// for it as well as for the current round, as the paper's L49 quantifies over any round r.
    mutating func evaluate(_ messageRound: Round, _ out: inout [ConsensusEffect]) {
        var r = messageRound
        var fired = true
        while fired {
            let h = height
            fired = false
            if r != round && upon49Decide(r, &out) { fired = true }
            else if upon55RoundSkip(&out) { fired = true }
            else {
                fired = upon22ProposalFresh(&out) || upon28ProposalWithValidRound(&out) || upon34PrevoteAny(&out)
                    || upon36PrevoteQuorumForValue(&out) || upon44PrevoteQuorumForNil(&out)
                    || upon47PrecommitAny(&out) || upon49Decide(round, &out)
            }
            if height != h { r = round }
        }
    }

    // MARK: Rules

    /// L11–21 StartRound(round). Deviation: the proposer also schedules timeoutPropose (as CometBFT does), so a
    /// proposer whose own re-proposal it cannot justify after a restart still moves on.
    mutating func startRound(_ r: Round, _ out: inout [ConsensusEffect]) {
        round = r                                            // L12
        step = .propose                                      // L13
        if isProposer {                                      // L14
            let slot = SignSlot(round: r, step: .propose)
            if ownMessages[slot] == nil {
                // L15–18: re-propose validValue if we have one, otherwise ask the application.
                let value = valid?.value ?? app.propose(height: height, round: r)
                let proposal = Proposal(height: height, round: r, validRound: valid?.round, value: value)
                sign(.proposal(proposal), &out)              // L19
                if let vr = valid?.round { relayProofOfLock(vr, value.id, &out) }
            } else {
                sign(ownMessages[slot]!.message, &out)       // restart: the guard re-sends what we signed
            }
        }
        let t = Timeout(step: .propose, height: height, round: r)
        out.append(.schedule(t, after: configuration.timeouts.duration(.propose, round: r)))  // L21
    }

    /// L22–27: a fresh proposal (validRound −1) while proposing.
    mutating func upon22ProposalFresh(_ out: inout [ConsensusEffect]) -> Bool {
        guard step == .propose, let log = rounds[round], let p = log.proposalValue, p.validRound == nil else {
            return false
        }
        let lockAllows = locked == nil || locked!.value == p.value || configuration.faults.ignoreLock
        let id: ValueID? = log.proposalIsValid && lockAllows ? p.value.id : nil   // L23–26
        sign(.vote(Vote(step: .prevote, height: height, round: round, valueID: id)), &out)
        step = .prevote                                                            // L27
        return true
    }

    /// L28–33: a re-proposal with 0 ≤ vr < round, backed by a quorum of prevotes for it in vr, while proposing.
    mutating func upon28ProposalWithValidRound(_ out: inout [ConsensusEffect]) -> Bool {
        guard step == .propose, let log = rounds[round], let p = log.proposalValue, let vr = p.validRound, vr < round,
            let polLog = rounds[vr], polLog.count(.prevote, for: p.value.id) >= validators.quorum
        else { return false }
        let lockAllows = locked == nil || locked!.round <= vr || locked!.value == p.value
            || configuration.faults.ignoreLock
        let id: ValueID? = log.proposalIsValid && lockAllows ? p.value.id : nil   // L29–32
        sign(.vote(Vote(step: .prevote, height: height, round: round, valueID: id)), &out)
        step = .prevote                                                            // L33
        return true
    }

    /// L34–35: a quorum of prevotes for anything while prevoting, first time: schedule timeoutPrevote.
    mutating func upon34PrevoteAny(_ out: inout [ConsensusEffect]) -> Bool {
        guard step == .prevote, let log = rounds[round], !log.prevoteTimeoutScheduled,
            log.senders(.prevote) >= validators.quorum
        else { return false }
        rounds[round]!.prevoteTimeoutScheduled = true
        let t = Timeout(step: .prevote, height: height, round: round)
        out.append(.schedule(t, after: configuration.timeouts.duration(.prevote, round: round)))
        return true
    }

    /// L36–43: a valid proposal and a quorum of prevotes for it, while step ≥ prevote, first time: lock and
    /// precommit it if still prevoting; in any case remember it as the valid value.
    mutating func upon36PrevoteQuorumForValue(_ out: inout [ConsensusEffect]) -> Bool {
        guard step >= .prevote, let log = rounds[round], !log.lockRuleFired, let p = log.proposalValue,
            log.proposalIsValid, log.count(.prevote, for: p.value.id) >= validators.quorum
        else { return false }
        rounds[round]!.lockRuleFired = true
        let current = RoundValue(value: p.value, round: round)
        valid = current                                                            // L42–43
        out.append(.persist(.polka(height: height, round: round, prevotes: log.votes(.prevote, for: p.value.id))))
        out.append(.persist(.valid(height: height, current)))
        if step == .prevote {                                                      // L37
            locked = current                                                       // L38–39
            out.append(.persist(.locked(height: height, current)))
            sign(.vote(Vote(step: .precommit, height: height, round: round, valueID: p.value.id)), &out)  // L40
            step = .precommit                                                      // L41
        }
        return true
    }

    /// L44–46: a quorum of nil prevotes while prevoting: precommit nil.
    mutating func upon44PrevoteQuorumForNil(_ out: inout [ConsensusEffect]) -> Bool {
        guard step == .prevote, let log = rounds[round], log.count(.prevote, for: nil) >= validators.quorum else {
            return false
        }
        sign(.vote(Vote(step: .precommit, height: height, round: round, valueID: nil)), &out)
        step = .precommit
        return true
    }

    /// L47–48: a quorum of precommits for anything, first time: schedule timeoutPrecommit. (Hyperdrive tests
    /// `count == 2f+1`, which misses the moment if two precommits arrive in one batch; we test ≥ with a flag.)
    mutating func upon47PrecommitAny(_ out: inout [ConsensusEffect]) -> Bool {
        guard let log = rounds[round], !log.precommitTimeoutScheduled, log.senders(.precommit) >= validators.quorum else {
            return false
        }
        rounds[round]!.precommitTimeoutScheduled = true
        let t = Timeout(step: .precommit, height: height, round: round)
        out.append(.schedule(t, after: configuration.timeouts.duration(.precommit, round: round)))
        return true
    }

    /// L49–54: a valid proposal in round r and a quorum of precommits for it in r: decide.
    mutating func upon49Decide(_ r: Round, _ out: inout [ConsensusEffect]) -> Bool {
        guard let log = rounds[r], let p = log.proposalValue, log.proposalIsValid,   // L50: valid(v)
            log.count(.precommit, for: p.value.id) >= validators.quorum
        else { return false }
        let precommits = log.votes(.precommit, for: p.value.id)
        decide(CommitCertificate(height: height, round: r, value: p.value, precommits: precommits), &out)
        return true
    }

    /// L55–56: messages from f+1 distinct validators in rounds above ours: move up. The paper counts f+1 messages
    /// of one round; we keep only each sender's highest round (bounded memory) and go to the highest round that
    /// f+1 senders have reached, which gives the same guarantee: some honest process is at or beyond it.
    mutating func upon55RoundSkip(_ out: inout [ConsensusEffect]) -> Bool {
        let ahead = highestRoundBySender.values.filter { $0 > round }
        guard ahead.count >= validators.skipThreshold else { return false }
        let target = ahead.sorted(by: >)[validators.skipThreshold - 1]
        startRound(target, &out)
        return true
    }

    // MARK: Leaves

    /// L51–54: hand the decision to the application, move to the next height, reset the round state.
    mutating func decide(_ certificate: CommitCertificate, _ out: inout [ConsensusEffect]) {
        let newValidators = app.commit(certificate)                        // L51 (decision_p[h_p] = v)
        out.append(.commit(certificate))
        height += 1                                                        // L52
        locked = nil                                                       // L53
        valid = nil
        rounds = [:]
        highestRoundBySender = [:]
        ownMessages = [:]
        reportedEvidence = []
        if let newValidators {
            validators = newValidators
            selfIndex = newValidators.index(of: signer.key)
        }
        startRound(0, &out)                                                // L54
    }

    /// Signs `message` through the double-sign guard, logs it locally and broadcasts it. If we already signed this
    /// (round, step) — possible only after a restart — the earlier message is re-sent instead and a different one is
    /// refused.
    mutating func sign(_ message: ConsensusMessage, _ out: inout [ConsensusEffect]) {
        guard selfIndex != nil else { return }
        let slot = SignSlot(round: message.round, step: message.step)
        let signed: SignedMessage
        if let earlier = ownMessages[slot] {
            if earlier.message != message { refusedSignatures += 1 }
            signed = earlier
        } else {
            signed = SignedMessage.sign(message, with: signer)
            ownMessages[slot] = signed
            out.append(.persist(.signed(signed)))
        }
        out.append(.broadcast(signed))
        insert(verifiedOwn(signed), &out)
    }

    func verifiedOwn(_ m: SignedMessage) -> VerifiedMessage { VerifiedMessage(signed: m, validator: selfIndex!) }

    /// When re-proposing validValue, relay the prevotes of its valid round so receivers can check L28.
    mutating func relayProofOfLock(_ vr: Round, _ id: ValueID, _ out: inout [ConsensusEffect]) {
        guard let log = rounds[vr] else { return }
        for m in log.votes(.prevote, for: id) where m.signer != signer.key { out.append(.broadcast(m)) }
    }

    /// Logs a message of the current height. Returns false for duplicates and for messages that are evidence
    /// (out-of-turn or conflicting), which are reported and dropped.
    @discardableResult
    mutating func insert(_ m: VerifiedMessage, _ out: inout [ConsensusEffect]) -> Bool {
        let r = m.message.round
        var log = rounds[r] ?? RoundLog()
        defer { rounds[r] = log }
        switch m.message {
        case .proposal(let p):
            guard m.validator == proposer(r) else {
                report(.outOfTurnPropose(m.signed), m, &out)
                return false
            }
            if let earlier = log.proposal {
                if earlier.message != m.message, let e = Misbehaviour.conflict(earlier.signed, m.signed) {
                    report(e, m, &out)
                }
                return false
            }
            log.proposal = m
            log.proposalIsValid = app.isValid(p.value, height: height)
        case .vote(let v):
            let earlier = log.votes(v.step)[m.validator] ?? []
            if earlier.contains(where: { $0.message == m.message }) { return false }
            if let first = earlier.first, let e = Misbehaviour.conflict(first.signed, m.signed) { report(e, m, &out) }
            // Bounded: an equivocator gets a few ids per (round, step); votes for a logged proposal's value always
            // fit, as they are the ones that can complete a polka or a commit.
            if earlier.count >= Limits.votesPerSenderMax && v.valueID != log.proposalValue?.value.id { return false }
            log.add(v, m)
        }
        return true
    }

    mutating func report(_ e: Misbehaviour, _ m: VerifiedMessage, _ out: inout [ConsensusEffect]) {
        let slot = EvidenceSlot(validator: m.validator, round: m.message.round, step: m.message.step)
        if reportedEvidence.insert(slot).inserted { out.append(.evidence(e)) }
    }
}
