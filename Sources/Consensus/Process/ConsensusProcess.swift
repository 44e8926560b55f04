/// An input to the process: the start signal, a verified message, a timeout firing, or a verified commit
/// certificate (catch-up).
public enum ConsensusEvent: Sendable {
    case start
    case message(VerifiedMessage)
    case timeout(Timeout)
    case certificate(VerifiedCertificate)
}

/// What the driver must do, in order. `.persist` must be durable before any later effect of the same batch is
/// carried out (see `WALEntry`).
public enum ConsensusEffect: Hashable, Sendable {
    case persist(WALEntry)
    /// Send to every validator. Own messages are already applied locally; the paper's "broadcast" includes self.
    case broadcast(SignedMessage)
    /// Call `handle(.timeout(t))` after the duration.
    case schedule(Timeout, after: Duration)
    /// A decision, already passed to the application's committer.
    case commit(CommitCertificate)
    case evidence(Misbehaviour)
}

/// Rule-breaking switches for tests that prove the simulator can catch a broken process. Never set in production.
public struct InjectedFaults: Sendable, Equatable {
    /// Prevote for any valid proposal, ignoring lockedValue/lockedRound (breaks L23 and L29).
    public var ignoreLock = false
    public init(ignoreLock: Bool = false) { self.ignoreLock = ignoreLock }
}

/// The Tendermint algorithm (Buchman, Kwon, Milosevic 2018, Algorithm 1) as a pure, single-threaded state machine.
///
/// One entry point, `handle`, takes an event and returns effects. No I/O, clock or randomness: timeouts arrive as
/// events, the application is called synchronously. Rules live in `ConsensusProcess+Rules.swift`, each citing the
/// paper's line; `docs/consensus.md` states them first.
public struct ConsensusProcess<App: ConsensusApplication> {
    public struct Configuration: Sendable {
        public var timeouts: TimeoutPolicy
        public var scheduler: any ProposerScheduler
        public var faults: InjectedFaults

        public init(timeouts: TimeoutPolicy, scheduler: any ProposerScheduler = RoundRobinScheduler(),
                    faults: InjectedFaults = InjectedFaults()) {
            self.timeouts = timeouts
            self.scheduler = scheduler
            self.faults = faults
        }
    }

    // Paper L2–L9 (decision_p is the application's; the process keeps only the current height).
    public internal(set) var height: Height
    public internal(set) var round: Round = 0
    public internal(set) var step: Step = .propose
    public internal(set) var locked: RoundValue?
    public internal(set) var valid: RoundValue?

    public internal(set) var validators: ValidatorSet
    public var app: App
    public let configuration: Configuration
    let signer: any ConsensusSigner
    /// Our index in `validators`, nil if we only observe.
    var selfIndex: Int?

    /// The message log of the current height, by round.
    var rounds: [Round: RoundLog] = [:]
    /// Highest round each sender has sent at this height, for the f+1 round skip (L55).
    var highestRoundBySender: [Int: Round] = [:]
    /// What we signed at this height: the double-sign guard, restored from the WAL after a crash.
    var ownMessages: [SignSlot: SignedMessage] = [:]
    /// Slots already reported as evidence, so one equivocation yields one piece of evidence.
    var reportedEvidence: Set<EvidenceSlot> = []
    var restoredRound: Round = 0
    var started = false
    /// How often the guard refused to sign a second, different message for a slot (after a restart).
    public internal(set) var refusedSignatures = 0

    struct EvidenceSlot: Hashable {
        let validator: Int
        let round: Round
        let step: Step
    }

    /// A process at `height` (≥ 1), with nothing logged.
    public init(height: Height, validators: ValidatorSet, signer: some ConsensusSigner, app: App,
                configuration: Configuration) {
        precondition(height >= 1, "height 0 is genesis")
        self.height = height
        self.validators = validators
        self.signer = signer
        self.app = app
        self.configuration = configuration
        self.selfIndex = validators.index(of: signer.key)
    }

    /// A process restarted after a crash at `height`, from the WAL entries of that height: it keeps its lock and
    /// valid value, resumes the latest round it signed in, and re-sends what it signed instead of signing anew.
    public init(restoringHeight height: Height, from entries: [WALEntry], validators: ValidatorSet,
                signer: some ConsensusSigner, app: App, configuration: Configuration) {
        self.init(height: height, validators: validators, signer: signer, app: app, configuration: configuration)
        for entry in entries where entry.height == height {
            switch entry {
            case .signed(let m) where m.signer == signer.key:
                ownMessages[SignSlot(round: m.message.round, step: m.message.step)] = m
            case .signed: continue
            case .locked(_, let rv): if locked.map({ $0.round <= rv.round }) ?? true { locked = rv }
            case .valid(_, let rv): if valid.map({ $0.round <= rv.round }) ?? true { valid = rv }
            case .polka(_, _, let prevotes):
                var ignored: [ConsensusEffect] = []
                for m in prevotes where m.message.step == .prevote {
                    // Our own durable log: checked when it was received, so only membership is looked up.
                    guard let i = validators.index(of: m.signer) else { continue }
                    insert(VerifiedMessage(signed: m, validator: i), &ignored)
                }
            }
            restoredRound = max(restoredRound, entry.round)
        }
    }

    /// The only entry point.
    public mutating func handle(_ event: ConsensusEvent) -> [ConsensusEffect] {
        var effects: [ConsensusEffect] = []
        switch event {
        case .start:
            precondition(!started, "start is sent once")
            started = true
            resume(&effects)
        case .message(let m):
            guard started else { break }
            receive(m, &effects)
        case .timeout(let t):
            guard started else { break }
            onTimeout(t, &effects)
        case .certificate(let c):
            guard started, c.certificate.height == height else { break }
            decideFromCertificate(c.certificate, &effects)
        }
        return effects
    }

    public var isProposer: Bool { proposer(round) == selfIndex }

    /// Whether `m` is in the log of the current height (the replica remembers a packet as seen only then: a message
    /// consumed without being stored, such as one too many rounds ahead, must count when it is resent).
    func holds(_ m: SignedMessage) -> Bool {
        guard m.message.height == height, let log = rounds[m.message.round] else { return false }
        switch m.message {
        case .proposal: return log.proposal?.signed == m
        case .vote(let v):
            guard let i = validators.index(of: m.signer) else { return false }
            return log.votes(v.step)[i]?.contains { $0.signed == m } ?? false
        }
    }

    /// The identity key this process signs with.
    public var signerKey: ValidatorKey { signer.key }

    public func proposer(_ r: Round) -> Int {
        configuration.scheduler.proposer(height: height, round: r, validators: validators)
    }

    /// Messages worth resending while stuck: everything logged in the current and previous round (this relays
    /// other validators' messages, the paper's gossip assumption), and the prevotes that justify the current
    /// proposal's valid round (the proof of lock that L28 needs).
    public func messagesForResend() -> [SignedMessage] {
        var out: [SignedMessage] = []
        if round > 0, let previous = rounds[round - 1] { out += previous.allMessages }
        if let current = rounds[round] {
            out += current.allMessages
            if let p = current.proposalValue, let vr = p.validRound, vr + 1 < round, let pol = rounds[vr] {
                out += pol.votes(.prevote, for: p.value.id)
            }
        }
        // Our own messages of this round even if a restart lost the log.
        for (slot, m) in ownMessages where slot.round == round && !out.contains(m) { out.append(m) }
        return out
    }

    /// What we hold for an earlier round `r` of this height, for a peer still in it: everything logged there and
    /// everything we signed there. The signed messages come from the WAL after a restart, whose log starts empty:
    /// without them a peer that lost our precommit of round r (it was dropped, or we crashed before it arrived) waits
    /// for a quorum of precommits in r that can never form, while we, alone in r + 1, are fewer than f + 1 ahead to
    /// pull it along (the stall of SIM_SEED=880).
    public func messages(inEarlierRound r: Round) -> [SignedMessage] {
        guard r < round else { return [] }
        var out = rounds[r]?.allMessages ?? []
        for step in [Step.propose, .prevote, .precommit] {
            if let m = ownMessages[SignSlot(round: r, step: step)], !out.contains(m) { out.append(m) }
        }
        return out
    }
}
