import Secp256k1

/// The messages a session has received, by round, with the checks every session applies before looking at
/// a payload: right session, known sender, right recipient, no stale round, one broadcast per sender and
/// round (a second, different one is equivocation and is remembered as such).
///
/// Messages for later rounds are kept: through a reliable broadcast, a faster member's next-round message
/// can arrive before this member has closed its round.
struct RoundInbox: Sendable {
    let session: SessionID
    let roundsMax: Int
    private(set) var broadcasts: [Int: [PartyIndex: MPCPayload]] = [:]
    private(set) var direct: [Int: [PartyIndex: MPCPayload]] = [:]
    /// Senders that sent two different broadcasts, per round.
    private(set) var equivocators: [Int: Set<PartyIndex>] = [:]

    init(session: SessionID, roundsMax: Int) {
        self.session = session
        self.roundsMax = roundsMax
    }

    /// Accepts a message for `currentRound` or later. `senders` are the members that speak in that round
    /// and `me` is this party's index as a recipient in that round (nil if it receives nothing directly).
    mutating func accept(
        _ message: MPCMessage, currentRound: Int, senders: [PartyIndex], me: PartyIndex?
    ) throws(MPCError) -> Misbehaviour? {
        guard message.session == session else { throw .wrongSession }
        guard message.round >= currentRound else {
            throw .unexpectedRound(expected: currentRound, got: message.round)
        }
        guard message.round <= roundsMax else { throw .unexpectedRound(expected: currentRound, got: message.round) }
        guard senders.contains(message.sender) else { throw .unknownSender(message.sender) }
        if let recipient = message.recipient {
            guard recipient == me else { throw .wrongRecipient(recipient) }
            if let previous = direct[message.round]?[message.sender] {
                // A private message cannot be shown to others, so a second one is simply refused.
                throw previous == message.payload ? .duplicate : .malformed("second direct message in a round")
            }
            direct[message.round, default: [:]][message.sender] = message.payload
            return nil
        }
        if let previous = broadcasts[message.round]?[message.sender] {
            if previous == message.payload { throw .duplicate }
            equivocators[message.round, default: []].insert(message.sender)
            return .equivocation(culprit: message.sender, round: message.round)
        }
        broadcasts[message.round, default: [:]][message.sender] = message.payload
        return nil
    }

    /// The broadcast of `sender` in `round`, unless the sender equivocated (then it counts as absent).
    func broadcast(round: Int, from sender: PartyIndex) -> MPCPayload? {
        equivocated(round: round, sender) ? nil : broadcasts[round]?[sender]
    }

    func equivocated(round: Int, _ sender: PartyIndex) -> Bool {
        equivocators[round]?.contains(sender) ?? false
    }

    func directMessage(round: Int, from sender: PartyIndex) -> MPCPayload? {
        direct[round]?[sender]
    }

    /// Whether every listed sender has broadcast in `round` (and, if listed, sent its direct message).
    func hasAll(round: Int, broadcasters: [PartyIndex], directSenders: [PartyIndex] = []) -> Bool {
        let b = broadcasts[round] ?? [:]
        let d = direct[round] ?? [:]
        return broadcasters.allSatisfy { b[$0] != nil } && directSenders.allSatisfy { d[$0] != nil }
    }
}

/// Clock bookkeeping shared by sessions.
struct SessionClock: Sendable {
    let timing: SessionTiming
    private(set) var started: Duration = .zero
    private(set) var roundStarted: Duration = .zero

    init(timing: SessionTiming) { self.timing = timing }

    mutating func start(at now: Duration) {
        started = now
        roundStarted = now
    }

    mutating func nextRound(at now: Duration) { roundStarted = now }

    func isExpired(at now: Duration) -> Bool { now - started >= timing.sessionTimeout }
    func roundTimedOut(at now: Duration) -> Bool { now - roundStarted >= timing.roundTimeout }
}
