import Secp256k1

/// Makes a batch of presignatures for one key share, with RenVM's RZL building blocks (renvm.md §2,
/// mpc.md "Presignature"):
///
/// 1. Random sharings (RZL RNG/RZG; here every member deals, and QUAL is fixed by the GJKR complaint
///    rounds as in key generation): per instance [k], [b] of degree t and zero sharings [z]₂ₜ, [ζ]₂ₜ, all with
///    Pedersen commitments.
/// 2. Nonce (RZL RKPG): members open the blinding shares of [k] (Reed–Solomon decoded, liars named), so
///    R = C_k(0) − ρ(0)·H = k·G without revealing k.
/// 3. Inversion (RZL Inv = MulOpen + local scaling): members open u_i = k_i b_i + z_i with a Pedersen
///    commitment M_i to k_i b_i and a Gennaro–Rabin–Rabin product proof; w = k·b is public and uniform;
///    [k⁻¹] = w⁻¹·[b].
/// 4. Product with the key: each member publishes P'_i committing to b_i·x_i with a product proof against
///    C_b(i) and X_i; then p_i = w⁻¹ b_i x_i is its share of [k⁻¹x]₂ₜ and w⁻¹·P'_i its public commitment.
///    Steps 2–4 share one broadcast round, since P'_i uses b rather than k⁻¹ = w⁻¹ b.
///
/// Rounds: 1 deal, 2 complaints, 3 answers (skipped when nobody complained), 4 openings. The online phase is
/// then one message per signer (`Presignature.signatureShare`).
///
/// Optimistic checks, with the expensive check only on failure: summed dealer shares are checked once per
/// sharing; w is accepted without checking product proofs when all n members opened and their shares lie
/// on one degree-2t polynomial (with n ≥ 3t + 1 at least 2t + 1 of them are honest, so that polynomial is
/// the honest one); key-product proofs are checked only when a signature fails to verify.
public struct PresignSession: MPCSession {
    public let sessionID: SessionID
    public let keyShare: KeyShare
    public let count: Int
    public private(set) var status: SessionStatus = .running
    public private(set) var misbehaviour: [Misbehaviour] = []
    public private(set) var round = 0

    private var inbox: RoundInbox
    private var clock: SessionClock
    private var phase: DealingPhase
    private var rng: any RandomNumberGenerator
    private var myDealt: [PartyIndex: [VerifiableShare]] = [:]
    private var materials: [PresignatureMaterial] = []
    /// Per instance, this party's opened secrets kept between rounds 4 and the end.
    private var pending: [PendingInstance] = []

    struct PendingInstance {
        var k: VerifiableShare, b: VerifiableShare, z: VerifiableShare, mask: VerifiableShare
        var keyProductBlinding: Scalar
        var kCommitment: [Point], bCommitment: [Point], zCommitment: [Point], maskCommitment: [Point]
    }

    enum Round { static let deal = 1, complaints = 2, answers = 3, openings = 4 }
    /// Sharings per instance: k, b, z (masks the k·b opening), ζ (masks signature shares).
    static let sharingsPerInstance = 4

    private var members: [PartyIndex] { Array(1...keyShare.committeeSize) }
    private var me: PartyIndex { keyShare.index }
    private var t: Int { keyShare.threshold }

    public init(
        session: SessionID, keyShare: KeyShare, count: Int, timing: SessionTiming = SessionTiming(),
        rng: some RandomNumberGenerator
    ) throws(MPCError) {
        guard count >= 1, count <= Limits.presignaturesPerBatchMax else {
            throw .invalidParameters("batch size must be 1…\(Limits.presignaturesPerBatchMax)")
        }
        sessionID = session
        self.keyShare = keyShare
        self.count = count
        inbox = RoundInbox(session: session, roundsMax: Round.openings)
        clock = SessionClock(timing: timing)
        let t = keyShare.threshold
        let perInstance = [
            SharingSpec(degree: t, hiding: true, zeroConstant: false),
            SharingSpec(degree: t, hiding: true, zeroConstant: false),
            SharingSpec(degree: 2 * t, hiding: true, zeroConstant: true),
            SharingSpec(degree: 2 * t, hiding: true, zeroConstant: true),
        ]
        let members = Array(1...keyShare.committeeSize)
        phase = DealingPhase(
            specs: Array((0..<count).map { _ in perInstance }.joined()), dealers: members, receivers: members,
            me: keyShare.index)
        self.rng = rng
    }

    /// The finished presignatures, handed over once (later calls return an empty batch).
    public mutating func takePresignatures() -> PresignatureBatch {
        defer { materials = [] }
        return PresignatureBatch(materials)
    }

    /// Public halves of the finished presignatures (for combiners).
    public var publicData: [PresignaturePublic] { materials.map(\.publicData) }

    public mutating func start(now: Duration) -> [MPCMessage] {
        clock.start(at: now)
        round = Round.deal
        let secrets = (0..<phase.specs.count).map { _ in Scalar.random(using: &rng) }
        let dealt = DealingPhase.deal(specs: phase.specs, secrets: secrets, receivers: members, using: &rng)
        myDealt = dealt.shares
        var out = [message(recipient: nil, .commitments(dealt.commitments))]
        for receiver in members { out.append(message(recipient: receiver, .shares(dealt.shares[receiver]!))) }
        return out
    }

    public mutating func handle(_ message: MPCMessage, now: Duration) throws(MPCError) {
        guard status == .running else { throw .sessionFinished }
        guard !clock.isExpired(at: now) else { throw .sessionExpired }
        switch (message.round, message.payload, message.recipient) {
        case (Round.deal, .commitments(let v), nil):
            guard v.count == phase.specs.count else { throw .malformed("commitment vector count") }
        case (Round.deal, .shares(let s), .some):
            guard s.count == phase.specs.count else { throw .malformed("share count") }
        case (Round.complaints, .complaints, nil), (Round.answers, .answers, nil): break
        case (Round.openings, .presignOpenings(let o), nil):
            guard o.count == count else { throw .malformed("one opening per instance") }
        default: throw .unexpectedPayload(round: message.round)
        }
        if let found = try inbox.accept(message, currentRound: round, senders: members, me: me) { record(found) }
    }

    public var isRoundComplete: Bool {
        switch round {
        case Round.deal: return inbox.hasAll(round: round, broadcasters: members, directSenders: members)
        case Round.answers:
            return inbox.hasAll(round: round, broadcasters: phase.qualified.filter { !phase.complainers(of: $0).isEmpty })
        default: return inbox.hasAll(round: round, broadcasters: members)
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
            for found in phase.collectDealings(from: members, round: Round.deal, inbox: inbox) { record(found) }
            round = Round.complaints
            return [message(recipient: nil, .complaints(phase.badDealers(optimistic: true)))]
        case Round.complaints:
            for member in members {
                if case .complaints(let accused)? = inbox.broadcast(round: Round.complaints, from: member) {
                    try? phase.acceptComplaints(from: member, against: accused)
                }
            }
            guard phase.needsAnswers else { return enterOpenings() }
            round = Round.answers
            let accusers = phase.complainers(of: me)
            guard !accusers.isEmpty, phase.qualified.contains(me) else { return [] }
            return [message(recipient: nil, .answers(accusers.map { ComplaintAnswer(complainer: $0, shares: myDealt[$0]!) }))]
        case Round.answers:
            for dealer in phase.qualified {
                if case .answers(let list)? = inbox.broadcast(round: Round.answers, from: dealer) {
                    try? phase.acceptAnswers(from: dealer, list)
                }
            }
            phase.resolveComplaints().forEach { record($0) }
            return enterOpenings()
        case Round.openings:
            closeOpenings()
            return []
        default:
            return []
        }
    }

    static func proofContext(session: SessionID, instance: Int, prover: PartyIndex, label: String) -> [UInt8] {
        session.bytes + Wire.lengthPrefix(instance) + Wire.lengthPrefix(prover) + Array(label.utf8)
    }

    private mutating func enterOpenings() -> [MPCMessage] {
        round = Round.openings
        guard phase.qualified.count >= t + 1 else {
            status = .failed(.insufficientParticipants(needed: t + 1, available: phase.qualified.count))
            return []
        }
        let n = Self.sharingsPerInstance
        let xShare = VerifiableShare(value: keyShare.secret)
        let xCommitment = keyShare.publicData.publicShare(of: me)
        var openings: [PresignOpening] = []
        pending = []
        for instance in 0..<count {
            let base = instance * n
            let k = phase.summedShare(slot: base), b = phase.summedShare(slot: base + 1)
            let z = phase.summedShare(slot: base + 2), mask = phase.summedShare(slot: base + 3)
            let kC = phase.summedCommitment(slot: base), bC = phase.summedCommitment(slot: base + 1)
            let zC = phase.summedCommitment(slot: base + 2), maskC = phase.summedCommitment(slot: base + 3)
            let kAtMe = ExponentPolynomial.evaluate(kC, at: me), bAtMe = ExponentPolynomial.evaluate(bC, at: me)
            let productBlinding = Scalar.random(using: &rng)
            let product = VerifiableShare(value: k.value * b.value, blinding: productBlinding)
            let productCommitment = product.commitment
            let productProof = ProductProof.prove(
                a: k, b: b, productBlinding: productBlinding, commitments: (kAtMe, bAtMe, productCommitment),
                context: Self.proofContext(session: sessionID, instance: instance, prover: me, label: "kb"), using: &rng)
            let keyProductBlinding = Scalar.random(using: &rng)
            let keyProduct = VerifiableShare(value: b.value * keyShare.secret, blinding: keyProductBlinding)
            let keyProductCommitment = keyProduct.commitment
            let keyProductProof = ProductProof.prove(
                a: b, b: xShare, productBlinding: keyProductBlinding,
                commitments: (bAtMe, xCommitment, keyProductCommitment),
                context: Self.proofContext(session: sessionID, instance: instance, prover: me, label: "bx"), using: &rng)
            openings.append(
                PresignOpening(
                    nonceBlinding: k.blinding, maskedProduct: product + z, productCommitment: productCommitment,
                    productProof: productProof, keyProductCommitment: keyProductCommitment,
                    keyProductProof: keyProductProof))
            pending.append(
                PendingInstance(
                    k: k, b: b, z: z, mask: mask, keyProductBlinding: keyProductBlinding, kCommitment: kC,
                    bCommitment: bC, zCommitment: zC, maskCommitment: maskC))
        }
        return [message(recipient: nil, .presignOpenings(openings))]
    }

    private mutating func closeOpenings() {
        var openings: [PartyIndex: [PresignOpening]] = [:]
        for member in members {
            if case .presignOpenings(let list)? = inbox.broadcast(round: Round.openings, from: member) {
                openings[member] = list
            } else if !inbox.equivocated(round: Round.openings, member) {
                record(.silent(culprit: member, round: Round.openings))
            }
        }
        let openers = openings.keys.sorted()
        for instance in 0..<count {
            if let material = finishInstance(instance, openers: openers, openings: openings) {
                materials.append(material)
            }
        }
        status = materials.isEmpty
            ? .failed(.insufficientParticipants(needed: 2 * t + 1, available: openers.count)) : .finished
        pending = []
    }

    private mutating func finishInstance(
        _ instance: Int, openers allOpeners: [PartyIndex], openings: [PartyIndex: [PresignOpening]]
    ) -> PresignatureMaterial? {
        let mine = pending[instance]
        // Nonce: Reed–Solomon decode the blinding shares of [k]; whoever is off the codeword lied.
        let blindings = allOpeners.map { openings[$0]![instance].nonceBlinding }
        guard let decoded = ReedSolomon.decode(indices: allOpeners, values: blindings, degree: t) else { return nil }
        for liar in decoded.wrongIndices { record(.invalidOpening(culprit: liar, instance: instance)) }
        let nonce = mine.kCommitment[0] - PedersenGenerator.h * decoded.constantTerm
        guard let x = nonce.xCoordinate else { return nil }
        let r = Scalar(reducing: x)
        guard !r.isZeroVar else { return nil }
        // Multiply-and-open w = k·b.
        var openers = allOpeners.filter { !decoded.wrongIndices.contains($0) }
        let products = openers.map { openings[$0]![instance].maskedProduct.value }
        let optimistic = openers.count == members.count
            && Lagrange.areConsistent(indices: openers, values: products, degree: 2 * t)
        if !optimistic {
            openers = openers.filter { j in
                let o = openings[j]![instance]
                let statement = (
                    ExponentPolynomial.evaluate(mine.kCommitment, at: j),
                    ExponentPolynomial.evaluate(mine.bCommitment, at: j), o.productCommitment
                )
                let context = Self.proofContext(session: sessionID, instance: instance, prover: j, label: "kb")
                guard o.productProof.verify(commitments: statement, context: context) else {
                    record(.invalidProductProof(culprit: j, instance: instance))
                    return false
                }
                guard o.maskedProduct.commitment
                    == o.productCommitment + ExponentPolynomial.evaluate(mine.zCommitment, at: j)
                else {
                    record(.invalidOpening(culprit: j, instance: instance))
                    return false
                }
                return true
            }
        }
        guard openers.count >= 2 * t + 1 else { return nil }
        let basis = Array(openers.prefix(2 * t + 1))
        let w = Lagrange.interpolate(indices: basis, values: basis.map { openings[$0]![instance].maskedProduct.value })
        guard let wInverse = try? w.inverse() else { return nil }
        var keyProducts: [PartyIndex: KeyProductClaim] = [:]
        for j in allOpeners {
            let o = openings[j]![instance]
            keyProducts[j] = KeyProductClaim(commitment: o.keyProductCommitment, proof: o.keyProductProof)
        }
        let publicData = PresignaturePublic(
            id: PresignatureID(session: sessionID, instance: instance), session: sessionID, instance: instance,
            epoch: keyShare.epoch, threshold: t, nonce: nonce, r: r, wInverse: wInverse,
            bCommitment: mine.bCommitment, maskCommitment: mine.maskCommitment, keyProducts: keyProducts)
        return PresignatureMaterial(
            publicData: publicData, index: me, kInverse: wInverse * mine.b,
            keyProduct: wInverse * VerifiableShare(value: mine.b.value * keyShare.secret, blinding: mine.keyProductBlinding),
            mask: mine.mask)
    }

    private mutating func record(_ m: Misbehaviour) {
        if !misbehaviour.contains(m) { misbehaviour.append(m) }
        if case .equivocation(let culprit, _) = m { phase.disqualify(culprit, because: m) }
    }

    private func message(recipient: PartyIndex?, _ payload: MPCPayload) -> MPCMessage {
        MPCMessage(session: sessionID, sender: me, recipient: recipient, round: round, payload: payload)
    }
}
