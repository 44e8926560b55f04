/// The messages of one round at the current height, with running tallies so every upon-rule is O(1).
struct RoundLog {
    /// The first proposal from proposer(h, r); a different second one is evidence and is dropped.
    var proposal: VerifiedMessage?
    /// valid(v) of that proposal, asked once.
    var proposalIsValid = false
    var prevotes: [Int: VerifiedMessage] = [:]
    var precommits: [Int: VerifiedMessage] = [:]
    /// Prevotes per id(v); the nil key counts nil prevotes.
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

    func votes(_ step: VoteStep) -> [Int: VerifiedMessage] { step == .prevote ? prevotes : precommits }

    func count(_ step: VoteStep, for id: ValueID?) -> Int {
        (step == .prevote ? prevoteTally : precommitTally)[id] ?? 0
    }

    mutating func add(_ vote: Vote, _ message: VerifiedMessage) {
        switch vote.step {
        case .prevote:
            prevotes[message.validator] = message
            prevoteTally[vote.valueID, default: 0] += 1
        case .precommit:
            precommits[message.validator] = message
            precommitTally[vote.valueID, default: 0] += 1
        }
    }

    /// Every message logged for this round (for resends).
    var allMessages: [SignedMessage] {
        var out: [SignedMessage] = []
        if let p = proposal { out.append(p.signed) }
        out += prevotes.keys.sorted().map { prevotes[$0]!.signed }
        out += precommits.keys.sorted().map { precommits[$0]!.signed }
        return out
    }
}

/// One signing slot of the current height: one honest signature per (round, step).
struct SignSlot: Hashable {
    let round: Round
    let step: Step
}
