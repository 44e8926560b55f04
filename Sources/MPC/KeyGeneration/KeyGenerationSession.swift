import Secp256k1

/// Distributed key generation following Gennaro, Jarecki, Krawczyk and Rabin, "Secure Distributed Key
/// Generation for Discrete-Log Based Cryptosystems" (EUROCRYPT'99 / J. Cryptology 2007), the two-phase
/// protocol, chosen over commit-then-reveal because its first phase is the same Pedersen dealing that
/// presignatures use.
///
/// Phase 1 (rounds 1–2), Pedersen VSS: every member deals a random x_d with Pedersen commitments, shares
/// encrypted inside its broadcast; bad shares draw proven complaints (`DealingPhase`); QUAL is fixed when round 2
/// closes. Pedersen commitments hide x_d completely, so nobody sees the others' contributions before then.
/// Phase 2 (rounds 3–5), Feldman reveal: QUAL dealers publish a_{d,j}·G; a share that fits the Pedersen
/// commitment but not the Feldman values proves the dealer cheated. From here on no dealer ever leaves QUAL: a
/// dealer that is silent, equivocates or reveals inconsistent values has its polynomial rebuilt in public from
/// the other members' shares, so X = Σ_{d∈QUAL} x_d·G whatever it does (otherwise t corrupt dealers, having seen
/// every honest Feldman value, could pick X among 2^t sums).
///
/// Output: x_i = Σ_{d∈QUAL} s_{d,i}, every X_j, and X.
public struct KeyGenerationSession: MPCSession {
    public let sessionID: SessionID
    public let parameters: CommitteeParameters
    public let me: PartyIndex
    public let epoch: UInt64
    public private(set) var status: SessionStatus = .running
    public private(set) var misbehaviour: [Misbehaviour] = []
    public private(set) var round = 0

    private var inbox: RoundInbox
    private var clock: SessionClock
    private var phase: DealingPhase
    private var rng: any RandomNumberGenerator
    private var outbox: [MPCMessage] = []
    private var myValuePolynomial: Polynomial?
    private var feldman: [PartyIndex: [Point]] = [:]
    private var rebuild: Set<PartyIndex> = []
    private var result: KeyShare?
    /// Test hook: rewrites the shares this member deals to a receiver before they are encrypted (a corrupt dealer).
    package var dealingTamper: ((PartyIndex, inout [VerifiableShare]) -> Void)?

    enum Round {
        static let deal = 1, complaints = 2, reveal = 3, revealComplaints = 4, reconstruction = 5
    }

    /// A node's session: randomness from the system CSPRNG. `identities` are the members' identity public keys
    /// in index order; `identity` is this member's.
    public init(
        session: SessionID, parameters: CommitteeParameters, me: PartyIndex, identity: MemberIdentity,
        identities: [Point], epoch: UInt64 = 0, timing: SessionTiming = SessionTiming()
    ) throws(MPCError) {
        try self.init(
            session: session, parameters: parameters, me: me, identity: identity, identities: identities, epoch: epoch,
            timing: timing, rng: SystemRandomNumberGenerator())
    }

    /// Simulations and tests (the `MPCSimulator` target): randomness from an injected (seeded) generator. Package
    /// access: a node's sessions never take one.
    package init(
        session: SessionID, parameters: CommitteeParameters, me: PartyIndex, identity: MemberIdentity,
        identities: [Point], epoch: UInt64 = 0, timing: SessionTiming = SessionTiming(),
        rng: some RandomNumberGenerator
    ) throws(MPCError) {
        guard parameters.members.contains(me) else { throw .invalidParameters("member index out of range") }
        sessionID = session
        self.parameters = parameters
        self.me = me
        self.epoch = epoch
        inbox = RoundInbox(session: session, roundsMax: Round.reconstruction)
        clock = SessionClock(timing: timing)
        let spec = SharingSpec(degree: parameters.threshold, hiding: true, zeroConstant: false)
        phase = try DealingPhase(
            session: session, specs: [spec], dealers: parameters.members, receivers: parameters.members,
            receiverKeys: identities, me: me, identity: identity, faultyMax: parameters.threshold)
        self.rng = rng
    }

    /// The key share, once finished.
    public var keyShare: KeyShare? { result }

    /// QUAL as this member computed it.
    var qualifiedForTesting: [PartyIndex] { phase.qualified }

    /// Shares this member decrypted, by dealer (tests look for them on the wire).
    var receivedSharesForTesting: [PartyIndex: [VerifiableShare]] { phase.myShares }

    public mutating func start(now: Duration) -> [MPCMessage] {
        guard round == 0 else { return [] }
        clock.start(at: now)
        round = Round.deal
        let secret = Scalar.random(using: &rng)
        let dealt = DealingPhase.deal(
            session: sessionID, dealer: me, specs: phase.specs, secrets: [secret], receivers: parameters.members,
            receiverKeys: phase.receiverKeys, tamper: dealingTamper, using: &rng)
        myValuePolynomial = dealt.polynomials[0]
        var out = [message(.dealing(dealt.dealing))]
        closeAgreedRounds(now: now)
        out += outbox
        outbox = []
        return out
    }

    public mutating func handle(_ message: MPCMessage, now: Duration) throws(MPCError) {
        guard status == .running else { throw .sessionFinished }
        guard !clock.isExpired(at: now) else { throw .sessionExpired }
        try Self.checkShape(message, threshold: parameters.threshold)
        if let found = try inbox.accept(
            message, currentRound: max(round, 1), senders: parameters.members, voters: parameters.members)
        {
            record(found)
        }
        closeAgreedRounds(now: now)
    }

    static func checkShape(_ message: MPCMessage, threshold: Int) throws(MPCError) {
        let ok: Bool
        switch (message.round, message.payload) {
        case (_, .roundTimeout), (Round.deal, .dealing), (Round.complaints, .complaints),
            (Round.revealComplaints, .revealComplaints), (Round.reconstruction, .reconstruction):
            ok = true
        case (Round.reveal, .feldmanReveal(let points)):
            guard points.count == threshold + 1 else { throw .malformed("Feldman reveal needs t + 1 points") }
            ok = true
        default: ok = false
        }
        guard ok else { throw .unexpectedPayload(round: message.round) }
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
        if clock.shouldVote(round: round, at: now) { out.append(message(.roundTimeout)) }
        return out
    }

    /// Who must speak in the current round for it to close before the timeout votes.
    private var expectedSpeakers: [PartyIndex] {
        round == Round.reveal ? phase.qualified : parameters.members
    }

    /// Closes every round that the agreed transcript has closed (see `ReliableBroadcast`).
    private mutating func closeAgreedRounds(now: Duration) {
        while status == .running, round > 0,
            inbox.isClosed(round: round, broadcasters: expectedSpeakers, votesNeeded: parameters.threshold + 1)
        {
            clock.nextRound(at: now)
            outbox += closeRound()
        }
    }

    private mutating func closeRound() -> [MPCMessage] {
        switch round {
        case Round.deal:
            phase.collectDealings(round: Round.deal, inbox: inbox).forEach { record($0) }
            round = Round.complaints
            let accused = phase.badDealers(optimistic: false)
            return [message(.complaints(phase.disclosures(against: accused, using: &rng)))]
        case Round.complaints:
            phase.collectComplaints(round: Round.complaints, inbox: inbox).forEach { record($0) }
            return enterReveal()
        case Round.reveal:
            return closeReveal()
        case Round.revealComplaints:
            closeRevealComplaints()
            if rebuild.isEmpty { return finish() }
            round = Round.reconstruction
            let shares = rebuild.sorted().compactMap { dealer in
                phase.myShares[dealer].map { ReconstructionShare(dealer: dealer, share: $0[0]) }
            }
            return [message(.reconstruction(shares))]
        case Round.reconstruction:
            closeReconstruction()
            return finish()
        default:
            return []
        }
    }

    /// QUAL is fixed here, for good.
    private mutating func enterReveal() -> [MPCMessage] {
        round = Round.reveal
        guard phase.qualified.count >= parameters.threshold + 1 else {
            status = .failed(.insufficientParticipants(needed: parameters.threshold + 1, available: phase.qualified.count))
            return []
        }
        guard phase.qualified.contains(me), let polynomial = myValuePolynomial else { return [] }
        return [message(.feldmanReveal(FeldmanCommitment(polynomial: polynomial).coefficients))]
    }

    private mutating func closeReveal() -> [MPCMessage] {
        var complaints: [RevealComplaint] = []
        for dealer in phase.qualified {
            guard case .feldmanReveal(let points)? = inbox.broadcast(round: Round.reveal, from: dealer) else {
                if !inbox.equivocated(round: Round.reveal, dealer) { record(.silent(culprit: dealer, round: Round.reveal)) }
                rebuild.insert(dealer)
                continue
            }
            feldman[dealer] = points
            if let share = phase.myShares[dealer]?[0],
                Point.generatorMultiple(share.value) != ExponentPolynomial.evaluate(points, at: me)
            {
                complaints.append(RevealComplaint(dealer: dealer, share: share))
            }
        }
        round = Round.revealComplaints
        return [message(.revealComplaints(complaints))]
    }

    private mutating func closeRevealComplaints() {
        for complainer in parameters.members {
            guard case .revealComplaints(let list)? = inbox.broadcast(round: Round.revealComplaints, from: complainer)
            else { continue }
            for complaint in list {
                let dealer = complaint.dealer
                guard phase.qualified.contains(dealer), let points = feldman[dealer],
                    let pedersen = phase.dealings[dealer]?.commitments[0]
                else { continue }
                let fitsPedersen = VerifiableShare.publicCommitment(value: complaint.share.value, blinding: complaint.share.blinding) == ExponentPolynomial.evaluate(pedersen, at: complainer)
                let fitsFeldman =
                    Point.generatorMultiple(complaint.share.value) == ExponentPolynomial.evaluate(points, at: complainer)
                if fitsPedersen && !fitsFeldman {
                    if rebuild.insert(dealer).inserted { record(.inconsistentFeldmanReveal(culprit: dealer)) }
                } else {
                    record(.falseComplaint(culprit: complainer, dealer: dealer))
                }
            }
        }
    }

    private mutating func closeReconstruction() {
        let needed = parameters.threshold + 1
        for dealer in rebuild.sorted() {
            guard let pedersen = phase.dealings[dealer]?.commitments[0] else { continue }
            var indices: [PartyIndex] = []
            var values: [Scalar] = []
            for member in parameters.members where indices.count < needed {
                guard case .reconstruction(let list)? = inbox.broadcast(round: Round.reconstruction, from: member),
                    let entry = list.first(where: { $0.dealer == dealer }),
                    VerifiableShare.publicCommitment(value: entry.share.value, blinding: entry.share.blinding) == ExponentPolynomial.evaluate(pedersen, at: member)
                else { continue }
                indices.append(member)
                values.append(entry.share.value)
            }
            guard indices.count == needed else {
                status = .failed(.insufficientParticipants(needed: needed, available: indices.count))
                return
            }
            guard
                let coefficients = ReedSolomon.interpolateCoefficients(xs: indices.map { Scalar(party: $0) }, ys: values)
            else {
                status = .failed(.consistencyCheckFailed)
                return
            }
            feldman[dealer] = coefficients.map { Point.generatorMultiple($0) }
        }
    }

    private mutating func finish() -> [MPCMessage] {
        guard status == .running else { return [] }
        let qualified = phase.qualified
        var vectors: [[Point]] = []
        for dealer in qualified {
            guard let vector = feldman[dealer] else {
                status = .failed(.consistencyCheckFailed)
                return []
            }
            vectors.append(vector)
        }
        let summed = ExponentPolynomial.sum(vectors)
        let publicShares = parameters.members.map { ExponentPolynomial.evaluate(summed, at: $0) }
        let secret: Scalar
        do {
            secret = try phase.summedShare(slot: 0).value
        } catch {
            status = .failed(error)
            return []
        }
        let publicData = KeyPublicData(
            epoch: epoch, threshold: parameters.threshold, publicShares: publicShares, publicKey: summed[0])
        // Every honest member's share fits the public values by construction; check ours before use.
        guard Point.generatorMultiple(secret) == publicData.publicShare(of: me), !summed[0].isIdentity else {
            status = .failed(.consistencyCheckFailed)
            return []
        }
        result = KeyShare(publicData: publicData, index: me, secret: secret)
        status = .finished
        return []
    }

    /// Records a violation. Equivocation removes a dealer only while QUAL is open (rounds 1–2); afterwards the
    /// equivocator's contribution stays in X, rebuilt in public if its reveal is lost.
    private mutating func record(_ m: Misbehaviour) {
        if !misbehaviour.contains(m) { misbehaviour.append(m) }
        if case .equivocation(let culprit, let r) = m, r <= Round.complaints, round <= Round.complaints {
            phase.disqualify(culprit, because: m)
        }
    }

    private func message(_ payload: MPCPayload) -> MPCMessage {
        MPCMessage(session: sessionID, sender: me, recipient: nil, round: round, payload: payload)
    }
}
