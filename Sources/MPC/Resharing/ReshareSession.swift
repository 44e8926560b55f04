import Secp256k1

/// Moves the shard key to the next committee (n′, t′) without changing X, as in verifiable secret
/// redistribution (Wong, Wang, Wing 2002; the old-committee-deals-to-new pattern of tss-lib and Lit,
/// docs/mpc.md), with GJKR-style complaints.
///
/// Round 1: every old member i Feldman-deals its share x_i with a degree-t′ polynomial to the new
/// committee, shares encrypted to the new members' identity keys inside its broadcast. The constant term of its
/// commitment must be X_i, its public key share: a public check that stops an old member from shifting the key.
/// Round 2: new members publish proven complaints (`DealingPhase`); QUAL is fixed from the agreed transcript; S = the first t + 1 members of QUAL; new member j's share is
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
    private var outbox: [MPCMessage] = []
    private var resultShare: KeyShare?
    private var resultPublic: KeyPublicData?

    enum Round { static let deal = 1, complaints = 2 }

    private var oldMembers: [PartyIndex] { Array(1...oldKey.committeeSize) }
    private var newMembers: [PartyIndex] { newParameters.members }

    /// A node's session: randomness from the system CSPRNG. `oldShare` for a member of the old committee,
    /// `newIndex` and `identity` for a member of the new one (a node in both gives both); `newIdentities` are
    /// the new members' identity public keys in index order.
    public init(
        session: SessionID, oldKey: KeyPublicData, newParameters: CommitteeParameters, oldShare: KeyShare?,
        newIndex: PartyIndex?, identity: MemberIdentity?, newIdentities: [Point], timing: SessionTiming = SessionTiming()
    ) throws(MPCError) {
        try self.init(
            session: session, oldKey: oldKey, newParameters: newParameters, oldShare: oldShare, newIndex: newIndex,
            identity: identity, newIdentities: newIdentities, timing: timing, rng: SystemRandomNumberGenerator())
    }

    /// Simulations and tests (the `MPCSimulator` target): randomness from an injected (seeded) generator. Package
    /// access: a node's sessions never take one.
    package init(
        session: SessionID, oldKey: KeyPublicData, newParameters: CommitteeParameters, oldShare: KeyShare?,
        newIndex: PartyIndex?, identity: MemberIdentity?, newIdentities: [Point], timing: SessionTiming = SessionTiming(),
        rng: some RandomNumberGenerator
    ) throws(MPCError) {
        guard oldShare != nil || newIndex != nil else { throw .invalidParameters("neither old nor new member") }
        if let oldShare, oldShare.publicData != oldKey { throw .staleEpoch(expected: oldKey.epoch, got: oldShare.epoch) }
        if let newIndex, !newParameters.members.contains(newIndex) { throw .invalidParameters("new index out of range") }
        sessionID = session
        self.oldKey = oldKey
        self.newParameters = newParameters
        self.oldShare = oldShare
        self.newIndex = newIndex
        inbox = RoundInbox(session: session, roundsMax: Round.complaints)
        clock = SessionClock(timing: timing)
        var required: [PartyIndex: Point] = [:]
        for i in 1...oldKey.committeeSize { required[i] = oldKey.publicShare(of: i) }
        phase = try DealingPhase(
            session: session, specs: [SharingSpec(degree: newParameters.threshold, hiding: false, zeroConstant: false)],
            dealers: Array(1...oldKey.committeeSize), receivers: newParameters.members, receiverKeys: newIdentities,
            me: newIndex, identity: identity, faultyMax: newParameters.threshold, requiredConstants: required)
        self.rng = rng
    }

    /// The new key share (new members), once finished.
    public var newKeyShare: KeyShare? { resultShare }
    /// The new public data (everyone), once finished.
    public var newPublicData: KeyPublicData? { resultPublic }

    /// Shares this member decrypted, by dealer (tests look for them on the wire).
    var receivedSharesForTesting: [PartyIndex: [VerifiableShare]] { phase.myShares }

    public mutating func start(now: Duration) -> [MPCMessage] {
        guard round == 0 else { return [] }
        clock.start(at: now)
        round = Round.deal
        var out: [MPCMessage] = []
        if let oldShare {
            let dealt = DealingPhase.deal(
                session: sessionID, dealer: oldShare.index, specs: phase.specs, secrets: [oldShare.secret],
                receivers: newMembers, receiverKeys: phase.receiverKeys, using: &rng)
            out.append(message(from: oldShare.index, .dealing(dealt.dealing)))
        }
        closeAgreedRounds(now: now)
        out += outbox
        outbox = []
        return out
    }

    public mutating func handle(_ message: MPCMessage, now: Duration) throws(MPCError) {
        guard status == .running else { throw .sessionFinished }
        guard !clock.isExpired(at: now) else { throw .sessionExpired }
        let senders: [PartyIndex]
        switch (message.round, message.payload) {
        case (_, .roundTimeout): senders = newMembers
        case (Round.deal, .dealing(let d)):
            guard d.commitments.count == 1, d.commitments[0].count == newParameters.threshold + 1 else {
                throw .malformed("commitment shape")
            }
            senders = oldMembers
        case (Round.complaints, .complaints): senders = newMembers
        default: throw .unexpectedPayload(round: message.round)
        }
        if let found = try inbox.accept(message, currentRound: max(round, 1), senders: senders, voters: newMembers) {
            record(found)
        }
        closeAgreedRounds(now: now)
    }

    public mutating func tick(now: Duration) -> [MPCMessage] {
        guard round > 0 else { return [] }
        var out = outbox
        outbox = []
        guard status == .running else { return out }
        if clock.isExpired(at: now) {
            status = .failed(.sessionExpired)
            return out
        }
        // New members vote (their t′ bounds the faulty voters); old-only members follow the transcript.
        if let newIndex, clock.shouldVote(round: round, at: now) { out.append(message(from: newIndex, .roundTimeout)) }
        return out
    }

    /// Closes every round that the agreed transcript has closed (see `ReliableBroadcast`).
    private mutating func closeAgreedRounds(now: Duration) {
        while status == .running, round > 0,
            inbox.isClosed(
                round: round, broadcasters: round == Round.deal ? oldMembers : newMembers,
                votesNeeded: newParameters.threshold + 1)
        {
            clock.nextRound(at: now)
            switch round {
            case Round.deal:
                phase.collectDealings(round: Round.deal, inbox: inbox).forEach { record($0) }
                round = Round.complaints
                if let newIndex {
                    let accused = phase.badDealers(optimistic: false)
                    outbox.append(message(from: newIndex, .complaints(phase.disclosures(against: accused, using: &rng))))
                }
            default:
                phase.collectComplaints(round: Round.complaints, inbox: inbox).forEach { record($0) }
                finish()
            }
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
        let scaled = zip(lambdas, dealers).compactMap { lambda, dealer in
            phase.dealings[dealer]?.commitments[0].map { $0.timesPublic(lambda) }
        }
        let combined = ExponentPolynomial.sum(scaled)
        guard scaled.count == needed, combined.first == oldKey.publicKey else {
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
            for (lambda, dealer) in zip(lambdas, dealers) {
                guard let share = phase.myShares[dealer]?[0] else {
                    status = .failed(.missingShare(dealer: dealer))
                    return
                }
                secret += lambda * share.value
            }
            guard Point.generatorMultiple(secret) == publicData.publicShare(of: newIndex) else {
                status = .failed(.consistencyCheckFailed)
                return
            }
            resultShare = KeyShare(publicData: publicData, index: newIndex, secret: secret)
        }
        status = .finished
    }

    /// Records a violation; an old member that equivocates its dealing leaves QUAL (fixed at round 2's close).
    private mutating func record(_ m: Misbehaviour) {
        if !misbehaviour.contains(m) { misbehaviour.append(m) }
        if case .equivocation(let culprit, let round) = m, round == Round.deal {
            phase.disqualify(culprit, because: m)
        }
    }

    private func message(from sender: PartyIndex, _ payload: MPCPayload) -> MPCMessage {
        MPCMessage(session: sessionID, sender: sender, recipient: nil, round: round, payload: payload)
    }
}
