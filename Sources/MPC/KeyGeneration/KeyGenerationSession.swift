import Secp256k1

/// Distributed key generation following Gennaro, Jarecki, Krawczyk and Rabin, "Secure Distributed Key
/// Generation for Discrete-Log Based Cryptosystems" (EUROCRYPT'99 / J. Cryptology 2007), the two-phase
/// protocol, chosen over commit-then-reveal because its first phase is the same Pedersen dealing that
/// presignatures use.
///
/// Phase 1 (rounds 1–3), Pedersen VSS: every member deals a random x_d with Pedersen commitments; bad
/// shares draw public complaints; an accused dealer must reveal the disputed shares; QUAL is fixed.
/// Because Pedersen commitments hide x_d completely, nobody can see the others' contributions before QUAL
/// is fixed, which removes the joint-Feldman bias (a rushing adversary choosing which dealers survive).
/// Phase 2 (rounds 4–6), Feldman reveal: QUAL dealers publish a_{d,j}·G; a share that fits the Pedersen
/// commitment but not the Feldman values proves the dealer cheated, and its polynomial is then rebuilt in
/// public from the other members' shares, so X is still Σ_{d∈QUAL} x_d·G.
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
    private var myValuePolynomial: Polynomial?
    private var myDealt: [PartyIndex: [VerifiableShare]] = [:]
    private var feldman: [PartyIndex: [Point]] = [:]
    private var rebuild: Set<PartyIndex> = []
    private var result: KeyShare?

    enum Round {
        static let deal = 1, complaints = 2, answers = 3, reveal = 4, revealComplaints = 5, reconstruction = 6
    }

    public init(
        session: SessionID, parameters: CommitteeParameters, me: PartyIndex, epoch: UInt64 = 0,
        timing: SessionTiming = SessionTiming(), rng: some RandomNumberGenerator
    ) {
        sessionID = session
        self.parameters = parameters
        self.me = me
        self.epoch = epoch
        inbox = RoundInbox(session: session, roundsMax: Round.reconstruction)
        clock = SessionClock(timing: timing)
        let spec = SharingSpec(degree: parameters.threshold, hiding: true, zeroConstant: false)
        phase = DealingPhase(specs: [spec], dealers: parameters.members, receivers: parameters.members, me: me)
        self.rng = rng
    }

    /// The key share, once finished.
    public var keyShare: KeyShare? { result }

    public mutating func start(now: Duration) -> [MPCMessage] {
        clock.start(at: now)
        round = Round.deal
        let secret = Scalar.random(using: &rng)
        let dealt = DealingPhase.deal(specs: phase.specs, secrets: [secret], receivers: parameters.members, using: &rng)
        myDealt = dealt.shares
        // Keep the value polynomial for the Feldman reveal: re-derive it from the shares at 1…t+1.
        let basis = Array(1...(parameters.threshold + 1))
        myValuePolynomial = Polynomial(
            coefficients: ReedSolomon.interpolateCoefficients(
                xs: basis.map { Scalar(party: $0) }, ys: basis.map { dealt.shares[$0]![0].value }))
        var out = [message(recipient: nil, .commitments(dealt.commitments))]
        for receiver in parameters.members {
            out.append(message(recipient: receiver, .shares(dealt.shares[receiver]!)))
        }
        return out
    }

    public mutating func handle(_ message: MPCMessage, now: Duration) throws(MPCError) {
        guard status == .running else { throw .sessionFinished }
        guard !clock.isExpired(at: now) else { throw .sessionExpired }
        try Self.checkShape(message, threshold: parameters.threshold)
        if let found = try inbox.accept(message, currentRound: round, senders: parameters.members, me: me) {
            record(found)
        }
    }

    static func checkShape(_ message: MPCMessage, threshold: Int) throws(MPCError) {
        let ok: Bool
        switch (message.round, message.payload, message.recipient) {
        case (Round.deal, .commitments, nil), (Round.deal, .shares, .some), (Round.complaints, .complaints, nil),
            (Round.answers, .answers, nil), (Round.revealComplaints, .revealComplaints, nil),
            (Round.reconstruction, .reconstruction, nil):
            ok = true
        case (Round.reveal, .feldmanReveal(let points), nil):
            guard points.count == threshold + 1 else { throw .malformed("Feldman reveal needs t + 1 points") }
            ok = true
        default: ok = false
        }
        guard ok else { throw .unexpectedPayload(round: message.round) }
    }

    public mutating func tick(now: Duration) -> [MPCMessage] {
        guard status == .running, round > 0 else { return [] }
        if clock.isExpired(at: now) {
            status = .failed(.sessionExpired)
            return []
        }
        guard isRoundComplete || clock.roundTimedOut(at: now) else { return [] }
        clock.nextRound(at: now)
        return closeRound()
    }

    /// Whether every member that must speak this round has been heard.
    public var isRoundComplete: Bool {
        let members = parameters.members
        switch round {
        case Round.deal: return inbox.hasAll(round: round, broadcasters: members, directSenders: members)
        case Round.answers:
            return inbox.hasAll(round: round, broadcasters: phase.qualified.filter { !phase.complainers(of: $0).isEmpty })
        case Round.reveal: return inbox.hasAll(round: round, broadcasters: phase.qualified)
        default: return inbox.hasAll(round: round, broadcasters: members)
        }
    }

    private mutating func closeRound() -> [MPCMessage] {
        switch round {
        case Round.deal:
            closeDeal()
            round = Round.complaints
            return [message(recipient: nil, .complaints(phase.badDealers(optimistic: false)))]
        case Round.complaints:
            closeComplaints()
            if phase.needsAnswers {
                round = Round.answers
                let accusers = phase.complainers(of: me)
                guard !accusers.isEmpty else { return [] }
                let list = accusers.map { ComplaintAnswer(complainer: $0, shares: myDealt[$0]!) }
                return [message(recipient: nil, .answers(list))]
            }
            return enterReveal()
        case Round.answers:
            for dealer in phase.qualified {
                if case .answers(let list)? = inbox.broadcast(round: Round.answers, from: dealer) {
                    try? phase.acceptAnswers(from: dealer, list)
                }
            }
            phase.resolveComplaints().forEach { record($0) }
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
            return [message(recipient: nil, .reconstruction(shares))]
        case Round.reconstruction:
            closeReconstruction()
            return finish()
        default:
            return []
        }
    }

    private mutating func closeDeal() {
        for found in phase.collectDealings(from: parameters.members, round: Round.deal, inbox: inbox) { record(found) }
    }

    private mutating func closeComplaints() {
        for member in parameters.members {
            if case .complaints(let accused)? = inbox.broadcast(round: Round.complaints, from: member) {
                try? phase.acceptComplaints(from: member, against: accused)
            }
        }
    }

    private mutating func enterReveal() -> [MPCMessage] {
        round = Round.reveal
        guard phase.qualified.count >= parameters.threshold + 1 else {
            status = .failed(.insufficientParticipants(needed: parameters.threshold + 1, available: phase.qualified.count))
            return []
        }
        guard phase.qualified.contains(me), let polynomial = myValuePolynomial else { return [] }
        return [message(recipient: nil, .feldmanReveal(FeldmanCommitment(polynomial: polynomial).coefficients))]
    }

    private mutating func closeReveal() -> [MPCMessage] {
        var complaints: [RevealComplaint] = []
        for dealer in phase.qualified {
            guard case .feldmanReveal(let points)? = inbox.broadcast(round: Round.reveal, from: dealer) else {
                record(.silent(culprit: dealer, round: Round.reveal))
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
        return [message(recipient: nil, .revealComplaints(complaints))]
    }

    private mutating func closeRevealComplaints() {
        for complainer in parameters.members {
            guard case .revealComplaints(let list)? = inbox.broadcast(round: Round.revealComplaints, from: complainer)
            else { continue }
            for complaint in list {
                let dealer = complaint.dealer
                guard let points = feldman[dealer], let pedersen = phase.commitments[dealer]?[0],
                    phase.qualified.contains(dealer)
                else { continue }
                let fitsPedersen = complaint.share.commitment == ExponentPolynomial.evaluate(pedersen, at: complainer)
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
            guard let pedersen = phase.commitments[dealer]?[0] else { continue }
            var indices: [PartyIndex] = []
            var values: [Scalar] = []
            for member in parameters.members where indices.count < needed {
                guard case .reconstruction(let list)? = inbox.broadcast(round: Round.reconstruction, from: member),
                    let entry = list.first(where: { $0.dealer == dealer }),
                    entry.share.commitment == ExponentPolynomial.evaluate(pedersen, at: member)
                else { continue }
                indices.append(member)
                values.append(entry.share.value)
            }
            guard indices.count == needed else {
                status = .failed(.insufficientParticipants(needed: needed, available: indices.count))
                return
            }
            let coefficients = ReedSolomon.interpolateCoefficients(xs: indices.map { Scalar(party: $0) }, ys: values)
            feldman[dealer] = coefficients.map { Point.generatorMultiple($0) }
        }
    }

    private mutating func finish() -> [MPCMessage] {
        guard status == .running else { return [] }
        let qualified = phase.qualified
        let summed = ExponentPolynomial.sum(qualified.map { feldman[$0]! })
        let publicShares = parameters.members.map { ExponentPolynomial.evaluate(summed, at: $0) }
        let secret = qualified.reduce(Scalar.zero) { $0 + phase.myShares[$1]![0].value }
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

    private mutating func record(_ m: Misbehaviour) {
        if !misbehaviour.contains(m) { misbehaviour.append(m) }
        if case .equivocation(let culprit, _) = m { phase.disqualify(culprit, because: m) }
    }

    private func message(recipient: PartyIndex?, _ payload: MPCPayload) -> MPCMessage {
        MPCMessage(session: sessionID, sender: me, recipient: recipient, round: round, payload: payload)
    }
}
