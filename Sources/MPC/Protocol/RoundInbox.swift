import Secp256k1

/// The messages a session has received, by round, with the checks every session applies before looking at
/// a payload: right session, known sender, no stale round, one broadcast per sender and round (a second,
/// different one is equivocation and is remembered as such), and the round-timeout votes.
///
/// Messages for later rounds are kept: a corrupt member may broadcast early, and every honest member then
/// files it at the same point of the agreed order, for the same round.
struct RoundInbox: Sendable {
    let session: SessionID
    let roundsMax: Int
    private(set) var broadcasts: [Int: [PartyIndex: MPCPayload]] = [:]
    /// SHA-256 of the received bytes of each accepted broadcast, when it came off the wire.
    private(set) var digests: [Int: [PartyIndex: [UInt8]]] = [:]
    /// Senders that sent two different broadcasts, per round.
    private(set) var equivocators: [Int: Set<PartyIndex>] = [:]
    /// Members whose timer for a round fired, per round (in delivery order, distinct).
    private(set) var timeoutVotes: [Int: Set<PartyIndex>] = [:]

    init(session: SessionID, roundsMax: Int) {
        self.session = session
        self.roundsMax = roundsMax
    }

    /// Accepts a broadcast for `currentRound` or later. `senders` are the members that speak in that round;
    /// `voters` those whose timeout votes count.
    mutating func accept(
        _ message: MPCMessage, currentRound: Int, senders: [PartyIndex], voters: [PartyIndex]
    ) throws(MPCError) -> Misbehaviour? {
        guard message.session == session else { throw .wrongSession }
        guard message.round >= currentRound, message.round >= 1, message.round <= roundsMax else {
            throw .unexpectedRound(expected: currentRound, got: message.round)
        }
        // Protocol messages are all broadcast: shares travel encrypted inside dealings.
        guard message.recipient == nil else { throw .unexpectedPayload(round: message.round) }
        if case .roundTimeout = message.payload {
            guard voters.contains(message.sender) else { throw .unknownSender(message.sender) }
            guard timeoutVotes[message.round, default: []].insert(message.sender).inserted else { throw .duplicate }
            return nil
        }
        guard senders.contains(message.sender) else { throw .unknownSender(message.sender) }
        if let previous = broadcasts[message.round]?[message.sender] {
            // Judged on the received bytes when both copies came off the wire, else on the decoded values.
            let same: Bool
            if let a = digests[message.round]?[message.sender], let b = message.receivedDigest {
                same = a == b
            } else {
                same = previous == message.payload
            }
            if same { throw .duplicate }
            equivocators[message.round, default: []].insert(message.sender)
            return .equivocation(culprit: message.sender, round: message.round)
        }
        broadcasts[message.round, default: [:]][message.sender] = message.payload
        if let digest = message.receivedDigest { digests[message.round, default: [:]][message.sender] = digest }
        return nil
    }

    /// The broadcast of `sender` in `round`, unless the sender equivocated (then it counts as absent).
    func broadcast(round: Int, from sender: PartyIndex) -> MPCPayload? {
        equivocated(round: round, sender) ? nil : broadcasts[round]?[sender]
    }

    func equivocated(round: Int, _ sender: PartyIndex) -> Bool {
        equivocators[round]?.contains(sender) ?? false
    }

    /// Whether `round` may close at this point of the agreed order: every listed sender has broadcast (or
    /// equivocated), or `votesNeeded` distinct members voted that their timer fired.
    func isClosed(round: Int, broadcasters: [PartyIndex], votesNeeded: Int) -> Bool {
        if (timeoutVotes[round]?.count ?? 0) >= votesNeeded { return true }
        let b = broadcasts[round] ?? [:]
        return broadcasters.allSatisfy { b[$0] != nil }
    }
}

/// Clock bookkeeping shared by sessions: this member's own clock, used only to decide when to vote.
struct SessionClock: Sendable {
    let timing: SessionTiming
    private(set) var started: Duration = .zero
    private(set) var roundStarted: Duration = .zero
    /// Rounds this member has already voted to close.
    private var voted: Set<Int> = []

    init(timing: SessionTiming) { self.timing = timing }

    mutating func start(at now: Duration) {
        started = now
        roundStarted = now
    }

    mutating func nextRound(at now: Duration) { roundStarted = now }

    func isExpired(at now: Duration) -> Bool { now - started >= timing.sessionTimeout }

    /// True once per round, when this member's round timer has fired: it should broadcast its vote.
    mutating func shouldVote(round: Int, at now: Duration) -> Bool {
        guard now - roundStarted >= timing.roundTimeout, !voted.contains(round) else { return false }
        voted.insert(round)
        return true
    }
}
