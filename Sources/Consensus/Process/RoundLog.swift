/// The messages of one round at the current height, with running tallies so every upon-rule is O(1).
struct RoundLog {
    /// The first proposal from proposer(h, r); a different second one is evidence and is dropped.
    var proposal: VerifiedMessage?
    /// valid(v) of that proposal, asked once.
    var proposalIsValid = false
    /// Votes per sender. Normally one; a Byzantine sender may have several for different ids, and every one counts
    /// towards its id's tally, as in the paper, which counts messages, not first messages. Dropping all but the first
    /// (as Hyperdrive does) lets an equivocator split honest views of a polka so that a locked honest process can
    /// never be joined: a liveness bug the simulator found.
    var prevotes: [Int: [VerifiedMessage]] = [:]
    var precommits: [Int: [VerifiedMessage]] = [:]
    /// Distinct senders per id(v); the nil key counts nil votes.
    var prevoteTally: [ValueID?: Int] = [:]
    var precommitTally: [ValueID?: Int] = [:]
    /// "for the first time" flags of L34, L36 and L47.
    var prevoteTimeoutScheduled = false
    var lockRuleFired = false
    var precommitTimeoutScheduled = false

    var proposalValue: Proposal? {
        guard case .proposal(let p)? = proposal?.message else { return nil }
        return p
    }

    func votes(_ step: VoteStep) -> [Int: [VerifiedMessage]] { step == .prevote ? prevotes : precommits }

    /// Distinct senders of `step` votes for anything (the paper's ⟨…, ∗⟩).
    func senders(_ step: VoteStep) -> Int { step == .prevote ? prevotes.count : precommits.count }

    func count(_ step: VoteStep, for id: ValueID?) -> Int {
        (step == .prevote ? prevoteTally : precommitTally)[id] ?? 0
    }

    /// The votes of `step` for `id`, one per sender, in validator order.
    func votes(_ step: VoteStep, for id: ValueID?) -> [SignedMessage] {
        let all = votes(step)
        return all.keys.sorted().compactMap { i in
            all[i]!.first { if case .vote(let v) = $0.message { v.valueID == id } else { false } }?.signed
        }
    }

    mutating func add(_ vote: Vote, _ message: VerifiedMessage) {
        switch vote.step {
        case .prevote:
            prevotes[message.validator, default: []].append(message)
            prevoteTally[vote.valueID, default: 0] += 1
        case .precommit:
            precommits[message.validator, default: []].append(message)
            precommitTally[vote.valueID, default: 0] += 1
        }
    }

    /// Every message logged for this round (for resends).
    var allMessages: [SignedMessage] {
        var out: [SignedMessage] = []
        if let p = proposal { out.append(p.signed) }
        for i in prevotes.keys.sorted() { out += prevotes[i]!.map(\.signed) }
        for i in precommits.keys.sorted() { out += precommits[i]!.map(\.signed) }
        return out
    }
}

/// One signing slot of the current height: one honest signature per (round, step).
struct SignSlot: Hashable {
    let round: Round
    let step: Step
}
