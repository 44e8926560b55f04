import Secp256k1

/// Moves the shard key to the next committee (n′, t′) without changing X, as in verifiable secret
/// redistribution (Wong, Wang, Wing 2002; the old-committee-deals-to-new pattern of tss-lib and Lit,
/// anchors.md §3.6), with GJKR-style complaints.
///
/// Round 1: every old member i Feldman-deals its share x_i with a degree-t′ polynomial to the new
/// committee. The constant term of its commitment must be X_i, its public key share: a public check that
/// stops an old member from shifting the key. Round 2: new members complain about bad or missing shares.
/// Round 3 (only if someone complained): accused dealers reveal the disputed shares. QUAL is fixed from the
/// broadcast transcript; S = the first t + 1 members of QUAL; new member j's share is
/// x′_j = Σ_{i∈S} λ_i^S·s_{ij}, and X′_j = Σ_{i∈S} λ_i^S·A_i(j). Everyone checks Σ λ_i X_i = X.
///
/// The new shares belong to epoch e + 1: presignatures and signature shares of epoch e no longer match
/// (their epoch is refused, and their algebra is tied to the old shares).
public struct ReshareSession: MPCSession {
    public let sessionID: SessionID
    public let oldKey: KeyPublicData
    public let newParameters: CommitteeParameters
    public let oldShare: KeyShare?
    public let newIndex: PartyIndex?
    public private(set) var status: SessionStatus = .running
    public private(set) var misbehaviour: [Misbehaviour] = []
    public private(set) var round = 0

    private var inbox: RoundInbox
    private var clock: SessionClock
    private var phase: DealingPhase
    private var rng: any RandomNumberGenerator
    private var myDealt: [PartyIndex: [VerifiableShare]] = [:]
    private var resultShare: KeyShare?
    private var resultPublic: KeyPublicData?

    enum Round { static let deal = 1, complaints = 2, answers = 3 }

    private var oldMembers: [PartyIndex] { Array(1...oldKey.committeeSize) }
    private var newMembers: [PartyIndex] { newParameters.members }

    /// `oldShare` for a member of the old committee, `newIndex` for a member of the new one (a node in both
    /// gives both).
    public init(
        session: SessionID, oldKey: KeyPublicData, newParameters: CommitteeParameters, oldShare: KeyShare?,
        newIndex: PartyIndex?, timing: SessionTiming = SessionTiming(), rng: some RandomNumberGenerator
    ) throws(MPCError) {
        guard oldShare != nil || newIndex != nil else { throw .invalidParameters("neither old nor new member") }
        if let oldShare, oldShare.publicData != oldKey { throw .staleEpoch(expected: oldKey.epoch, got: oldShare.epoch) }
        if let newIndex, !newParameters.members.contains(newIndex) { throw .invalidParameters("new index out of range") }
        sessionID = session
        self.oldKey = oldKey
        self.newParameters = newParameters
        self.oldShare = oldShare
        self.newIndex = newIndex
        inbox = RoundInbox(session: session, roundsMax: Round.answers)
        clock = SessionClock(timing: timing)
        var required: [PartyIndex: Point] = [:]
        for i in 1...oldKey.committeeSize { required[i] = oldKey.publicShare(of: i) }
        phase = DealingPhase(
            specs: [SharingSpec(degree: newParameters.threshold, hiding: false, zeroConstant: false)],
            dealers: Array(1...oldKey.committeeSize), receivers: newParameters.members, me: newIndex,
            requiredConstants: required)
        self.rng = rng
    }

    /// The new key share (new members), once finished.
    public var newKeyShare: KeyShare? { resultShare }
    /// The new public data (everyone), once finished.
    public var newPublicData: KeyPublicData? { resultPublic }

    public mutating func start(now: Duration) -> [MPCMessage] {
        clock.start(at: now)
        round = Round.deal
        guard let oldShare else { return [] }
        let dealt = DealingPhase.deal(specs: phase.specs, secrets: [oldShare.secret], receivers: newMembers, using: &rng)
        myDealt = dealt.shares
        var out = [message(from: oldShare.index, recipient: nil, .commitments(dealt.commitments))]
        for j in newMembers { out.append(message(from: oldShare.index, recipient: j, .shares(dealt.shares[j]!))) }
        return out
    }

    public mutating func handle(_ message: MPCMessage, now: Duration) throws(MPCError) {
        guard status == .running else { throw .sessionFinished }
        guard !clock.isExpired(at: now) else { throw .sessionExpired }
        let senders: [PartyIndex]
        switch (message.round, message.payload, message.recipient) {
        case (Round.deal, .commitments(let v), nil):
            guard v.count == 1, v[0].count == newParameters.threshold + 1 else { throw .malformed("commitment shape") }
            senders = oldMembers
        case (Round.deal, .shares(let s), .some):
            guard s.count == 1 else { throw .malformed("share count") }
            senders = oldMembers
        case (Round.complaints, .complaints, nil): senders = newMembers
        case (Round.answers, .answers, nil): senders = oldMembers
        default: throw .unexpectedPayload(round: message.round)
        }
        if let found = try inbox.accept(message, currentRound: round, senders: senders, me: newIndex) {
            record(found)
        }
    }

    public var isRoundComplete: Bool {
        switch round {
        case Round.deal:
            return inbox.hasAll(round: round, broadcasters: oldMembers, directSenders: newIndex == nil ? [] : oldMembers)
        case Round.complaints: return inbox.hasAll(round: round, broadcasters: newMembers)
        default:
            return inbox.hasAll(round: round, broadcasters: phase.qualified.filter { !phase.complainers(of: $0).isEmpty })
        }
    }

    public mutating func tick(now: Duration) -> [MPCMessage] {
        guard status == .running, round > 0 else { return [] }
        if clock.isExpired(at: now) {
            status = .failed(.sessionExpired)
            return []
        }
        guard isRoundComplete || clock.roundTimedOut(at: now) else { return [] }
        clock.nextRound(at: now)
        switch round {
        case Round.deal:
            for found in phase.collectDealings(from: oldMembers, round: Round.deal, inbox: inbox) { record(found) }
            round = Round.complaints
            guard let newIndex else { return [] }
            return [message(from: newIndex, recipient: nil, .complaints(phase.badDealers(optimistic: false)))]
        case Round.complaints:
            for member in newMembers {
                if case .complaints(let accused)? = inbox.broadcast(round: Round.complaints, from: member) {
                    try? phase.acceptComplaints(from: member, against: accused)
                }
            }
            guard phase.needsAnswers else {
                finish()
                return []
            }
            round = Round.answers
            guard let oldShare, phase.qualified.contains(oldShare.index) else { return [] }
            let accusers = phase.complainers(of: oldShare.index)
            guard !accusers.isEmpty else { return [] }
            let list = accusers.map { ComplaintAnswer(complainer: $0, shares: myDealt[$0]!) }
            return [message(from: oldShare.index, recipient: nil, .answers(list))]
        case Round.answers:
            for dealer in phase.qualified {
                if case .answers(let list)? = inbox.broadcast(round: Round.answers, from: dealer) {
                    try? phase.acceptAnswers(from: dealer, list)
                }
            }
            phase.resolveComplaints().forEach { record($0) }
            finish()
            return []
        default:
            return []
        }
    }

    private mutating func finish() {
        let needed = oldKey.threshold + 1
        let qualified = phase.qualified
        guard qualified.count >= needed else {
            status = .failed(.insufficientParticipants(needed: needed, available: qualified.count))
            return
        }
        let dealers = Array(qualified.prefix(needed))
        let lambdas = Lagrange.coefficients(for: dealers)
        // Σ λ_i·A_i, coefficient by coefficient: the Feldman commitment of the new sharing of x.
        let scaled = zip(lambdas, dealers).map { lambda, dealer in phase.commitments[dealer]![0].map { $0 * lambda } }
        let combined = ExponentPolynomial.sum(scaled)
        guard combined[0] == oldKey.publicKey else {
            status = .failed(.consistencyCheckFailed)
            return
        }
        let publicShares = newMembers.map { ExponentPolynomial.evaluate(combined, at: $0) }
        let publicData = KeyPublicData(
            epoch: oldKey.epoch + 1, threshold: newParameters.threshold, publicShares: publicShares,
            publicKey: oldKey.publicKey)
        resultPublic = publicData
        if let newIndex {
            var secret = Scalar.zero
            for (lambda, dealer) in zip(lambdas, dealers) { secret += lambda * phase.myShares[dealer]![0].value }
            guard Point.generatorMultiple(secret) == publicData.publicShare(of: newIndex) else {
                status = .failed(.consistencyCheckFailed)
                return
            }
            resultShare = KeyShare(publicData: publicData, index: newIndex, secret: secret)
        }
        status = .finished
    }

    private mutating func record(_ m: Misbehaviour) {
        if !misbehaviour.contains(m) { misbehaviour.append(m) }
        if case .equivocation(let culprit, let round) = m, round != Round.complaints {
            phase.disqualify(culprit, because: m)
        }
    }

    private func message(from sender: PartyIndex, recipient: PartyIndex?, _ payload: MPCPayload) -> MPCMessage {
        MPCMessage(session: sessionID, sender: sender, recipient: recipient, round: round, payload: payload)
    }
}
