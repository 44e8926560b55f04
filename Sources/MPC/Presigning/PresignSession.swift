import Secp256k1

/// Makes a batch of presignatures for one key share, with RenVM's RZL building blocks (docs/mpc.md,
/// "Presignature"):
///
/// 1. Random sharings (RZL RNG/RZG; here every member deals, and QUAL is fixed by proven complaints as in key
///    generation, `DealingPhase`): per instance [k], [b] of degree t and zero sharings [z]₂ₜ, [ζ]₂ₜ, all with
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
/// Rounds: 1 deal, 2 complaints (always sent, possibly empty), 3 openings. The online phase is then one
/// message per signer (`Presignature.signatureShare`).
///
/// Optimistic checks, with the expensive check only on failure: summed dealer shares are checked once per
/// sharing (if QUAL then shrinks, the sum over QUAL is checked again, and a dealer whose error had cancelled
/// against a removed one is proven wrong in round 3 with `shareEvidence`: the batch aborts naming it, and no
/// honest member is blamed); w is accepted without checking product proofs when all n members opened and their
/// shares lie on one degree-2t polynomial (with n = 3t + 1 at least 2t + 1 of them are honest, so that
/// polynomial is the honest one), else from the first 2t + 1 openers whose proofs verify; key-product proofs are
/// checked only when a signature fails to verify.
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
    private var outbox: [MPCMessage] = []
    private var materials: [PresignatureMaterial] = []
    /// Per instance, this party's opened secrets kept between round 3 and the end.
    private var pending: [PendingInstance] = []
    /// Test hook: rewrites the shares this member deals to a receiver before they are encrypted (a corrupt dealer).
    package var dealingTamper: ((PartyIndex, inout [VerifiableShare]) -> Void)?

    struct PendingInstance {
        var k: VerifiableShare, b: VerifiableShare, z: VerifiableShare, mask: VerifiableShare
        var keyProductBlinding: Scalar
        var kCommitment: [Point], bCommitment: [Point], zCommitment: [Point], maskCommitment: [Point]
    }

    enum Round { static let deal = 1, complaints = 2, openings = 3 }
    /// Sharings per instance: k, b, z (masks the k·b opening), ζ (masks signature shares).
    static let sharingsPerInstance = 4

    private var members: [PartyIndex] { Array(1...keyShare.committeeSize) }
    private var me: PartyIndex { keyShare.index }
    private var t: Int { keyShare.threshold }

    /// A node's session: randomness from the system CSPRNG. `identities` are the members' identity public keys
    /// in index order; `identity` is this member's.
    public init(
        session: SessionID, keyShare: KeyShare, count: Int, identity: MemberIdentity, identities: [Point],
        timing: SessionTiming = SessionTiming()
    ) throws(MPCError) {
        try self.init(
            session: session, keyShare: keyShare, count: count, identity: identity, identities: identities,
            timing: timing, rng: SystemRandomNumberGenerator())
    }

    /// Simulations and tests (the `MPCSimulator` target): randomness from an injected (seeded) generator. Package
    /// access: a node's sessions never take one.
    package init(
        session: SessionID, keyShare: KeyShare, count: Int, identity: MemberIdentity, identities: [Point],
        timing: SessionTiming = SessionTiming(), rng: some RandomNumberGenerator
    ) throws(MPCError) {
        guard count >= 1, count <= Limits.presignaturesPerBatchMax else {
            throw .invalidParameters("batch size must be 1…\(Limits.presignaturesPerBatchMax)")
        }
        let n = keyShare.committeeSize, t = keyShare.threshold
        // The dealing is one broadcast: 67 bytes per commitment point (65 + framing), one ciphertext per member.
        let dealingBytes = count * ((2 * (t + 1) + 2 * (2 * t + 1)) * 67 + n * 64 * Self.sharingsPerInstance) + n * 40
        guard dealingBytes <= Limits.messageBytesMax else {
            throw .invalidParameters("a batch of \(count) makes a dealing above \(Limits.messageBytesMax) bytes at n = \(n)")
        }
        sessionID = session
        self.keyShare = keyShare
        self.count = count
        inbox = RoundInbox(session: session, roundsMax: Round.openings)
        clock = SessionClock(timing: timing)
        let perInstance = [
            SharingSpec(degree: t, hiding: true, zeroConstant: false),
            SharingSpec(degree: t, hiding: true, zeroConstant: false),
            SharingSpec(degree: 2 * t, hiding: true, zeroConstant: true),
            SharingSpec(degree: 2 * t, hiding: true, zeroConstant: true),
        ]
        let members = Array(1...keyShare.committeeSize)
        phase = try DealingPhase(
            session: session, specs: Array((0..<count).map { _ in perInstance }.joined()), dealers: members,
            receivers: members, receiverKeys: identities, me: keyShare.index, identity: identity, faultyMax: t)
        self.rng = rng
    }

    /// The finished presignatures, handed over once (later calls return an empty batch).
    public mutating func takePresignatures() -> PresignatureBatch {
        defer { materials = [] }
        return PresignatureBatch(materials)
    }

    /// Public halves of the finished presignatures (for combiners).
    public var publicData: [PresignaturePublic] { materials.map(\.publicData) }

    /// Shares this member decrypted, by dealer (tests look for them on the wire).
    var receivedSharesForTesting: [PartyIndex: [VerifiableShare]] { phase.myShares }

    public mutating func start(now: Duration) -> [MPCMessage] {
        guard round == 0 else { return [] }
        clock.start(at: now)
        round = Round.deal
        let secrets = (0..<phase.specs.count).map { _ in Scalar.random(using: &rng) }
        let dealt = DealingPhase.deal(
            session: sessionID, dealer: me, specs: phase.specs, secrets: secrets, receivers: members,
            receiverKeys: phase.receiverKeys, tamper: dealingTamper, using: &rng)
        var out = [message(.dealing(dealt.dealing))]
        closeAgreedRounds(now: now)
        out += outbox
        outbox = []
        return out
    }

    public mutating func handle(_ message: MPCMessage, now: Duration) throws(MPCError) {
        guard status == .running else { throw .sessionFinished }
        guard !clock.isExpired(at: now) else { throw .sessionExpired }
        switch (message.round, message.payload) {
        case (_, .roundTimeout), (Round.complaints, .complaints), (Round.openings, .shareEvidence): break
        case (Round.deal, .dealing(let d)):
            guard d.commitments.count == phase.specs.count else { throw .malformed("commitment vector count") }
        case (Round.openings, .presignOpenings(let o)):
            guard o.count == count else { throw .malformed("one opening per instance") }
        default: throw .unexpectedPayload(round: message.round)
        }
        if let found = try inbox.accept(message, currentRound: max(round, 1), senders: members, voters: members) {
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
        if clock.shouldVote(round: round, at: now) { out.append(message(.roundTimeout)) }
        return out
    }

    /// Closes every round that the agreed transcript has closed (see `ReliableBroadcast`).
    private mutating func closeAgreedRounds(now: Duration) {
        while status == .running, round > 0, inbox.isClosed(round: round, broadcasters: members, votesNeeded: t + 1) {
            clock.nextRound(at: now)
            outbox += closeRound()
        }
    }

    private mutating func closeRound() -> [MPCMessage] {
        switch round {
        case Round.deal:
            phase.collectDealings(round: Round.deal, inbox: inbox).forEach { record($0) }
            round = Round.complaints
            let accused = phase.badDealers(optimistic: true)
            return [message(.complaints(phase.disclosures(against: accused, using: &rng)))]
        case Round.complaints:
            phase.collectComplaints(round: Round.complaints, inbox: inbox).forEach { record($0) }
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

    /// QUAL is fixed here. Opens this member's values, or, if a qualified dealer's shares to it turn out wrong
    /// now that QUAL shrank (cancelling errors), publishes the proof instead.
    private mutating func enterOpenings() -> [MPCMessage] {
        round = Round.openings
        guard phase.qualified.count >= t + 1 else {
            status = .failed(.insufficientParticipants(needed: t + 1, available: phase.qualified.count))
            return []
        }
        let wrong = phase.dealersFailingAfterQUALChanged()
        if !wrong.isEmpty {
            return [message(.shareEvidence(phase.disclosures(against: wrong, using: &rng)))]
        }
        if let dealer = phase.firstMissingShare {
            status = .failed(.missingShare(dealer: dealer))
            return []
        }
        let n = Self.sharingsPerInstance
        let xCommitment = keyShare.publicData.publicShare(of: me)
        var openings: [PresignOpening] = []
        pending = []
        do {
            for instance in 0..<count {
                let base = instance * n
                let k = try phase.summedShare(slot: base), b = try phase.summedShare(slot: base + 1)
                let z = try phase.summedShare(slot: base + 2), mask = try phase.summedShare(slot: base + 3)
                let kC = phase.summedCommitment(slot: base), bC = phase.summedCommitment(slot: base + 1)
                let zC = phase.summedCommitment(slot: base + 2), maskC = phase.summedCommitment(slot: base + 3)
                let kAtMe = ExponentPolynomial.evaluate(kC, at: me), bAtMe = ExponentPolynomial.evaluate(bC, at: me)
                let productBlinding = Scalar.random(using: &rng)
                let product = VerifiableShare(value: k.value * b.value, blinding: productBlinding)
                let productCommitment = product.commitment
                let productProof = ProductProof.prove(
                    a: k, bBlinding: b.blinding, productBlinding: productBlinding, commitments: (kAtMe, bAtMe, productCommitment),
                    context: Self.proofContext(session: sessionID, instance: instance, prover: me, label: "kb"),
                    using: &rng)
                let keyProductBlinding = Scalar.random(using: &rng)
                let keyProduct = VerifiableShare(value: b.value * keyShare.secret, blinding: keyProductBlinding)
                let keyProductCommitment = keyProduct.commitment
                // B = X_i is a Feldman value (blinding 0): the proof never touches x_i itself.
                let keyProductProof = ProductProof.prove(
                    a: b, bBlinding: .zero, productBlinding: keyProductBlinding,
                    commitments: (bAtMe, xCommitment, keyProductCommitment),
                    context: Self.proofContext(session: sessionID, instance: instance, prover: me, label: "bx"),
                    using: &rng)
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
        } catch {
            status = .failed(error)
            return []
        }
        return [message(.presignOpenings(openings))]
    }

    private mutating func closeOpenings() {
        // Evidence first: a proven bad share from a qualified dealer aborts the batch for everyone.
        var culprits: Set<PartyIndex> = []
        let qualified = Set(phase.qualified)
        for member in members {
            guard case .shareEvidence(let list)? = inbox.broadcast(round: Round.openings, from: member) else { continue }
            for disclosure in list where qualified.contains(disclosure.dealer) {
                if phase.dealerIsGuilty(disclosure, complainer: member) == true {
                    culprits.insert(disclosure.dealer)
                    record(.invalidShares(culprit: disclosure.dealer, complainer: member))
                } else {
                    record(.falseComplaint(culprit: member, dealer: disclosure.dealer))
                }
            }
        }
        if !culprits.isEmpty {
            status = .failed(.aborted(culprits: culprits.sorted()))
            pending = []
            return
        }
        var openings: [PartyIndex: [PresignOpening]] = [:]
        for member in members {
            switch inbox.broadcast(round: Round.openings, from: member) {
            case .presignOpenings(let list)?: openings[member] = list
            case .shareEvidence?: break
            default:
                if !inbox.equivocated(round: Round.openings, member) {
                    record(.silent(culprit: member, round: Round.openings))
                }
            }
        }
        guard pending.count == count else {
            // This member could not open (it sent evidence that others judged false, or lacked a share).
            status = .failed(.consistencyCheckFailed)
            return
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
        let blindings = allOpeners.compactMap { openings[$0]?[instance].nonceBlinding }
        guard blindings.count == allOpeners.count else { return nil }
        guard let decoded = ReedSolomon.decode(indices: allOpeners, values: blindings, degree: t) else { return nil }
        for liar in decoded.wrongIndices { record(.invalidOpening(culprit: liar, instance: instance)) }
        let nonce = mine.kCommitment[0] - PedersenGenerator.h.timesPublic(decoded.constantTerm)
        guard let x = nonce.xCoordinate else { return nil }
        let r = Scalar(reducing: x)
        guard !r.isZeroVar else { return nil }
        // Multiply-and-open w = k·b.
        var openers = allOpeners.filter { !decoded.wrongIndices.contains($0) }
        let products = openers.compactMap { openings[$0]?[instance].maskedProduct.value }
        let optimistic = openers.count == members.count
            && Lagrange.areConsistent(indices: openers, values: products, degree: 2 * t)
        if !optimistic {
            // Verify proofs in index order until 2t + 1 openers are proven: w interpolated from proven shares is
            // right whatever the others sent, so their proofs need not be checked (bad ones met before are named).
            var proven: [PartyIndex] = []
            for j in openers where proven.count < 2 * t + 1 {
                guard let o = openings[j]?[instance] else { continue }
                let statement = (
                    ExponentPolynomial.evaluate(mine.kCommitment, at: j),
                    ExponentPolynomial.evaluate(mine.bCommitment, at: j), o.productCommitment
                )
                let context = Self.proofContext(session: sessionID, instance: instance, prover: j, label: "kb")
                guard o.productProof.verify(commitments: statement, context: context) else {
                    record(.invalidProductProof(culprit: j, instance: instance))
                    continue
                }
                guard VerifiableShare.publicCommitment(value: o.maskedProduct.value, blinding: o.maskedProduct.blinding)
                    == o.productCommitment + ExponentPolynomial.evaluate(mine.zCommitment, at: j)
                else {
                    record(.invalidOpening(culprit: j, instance: instance))
                    continue
                }
                proven.append(j)
            }
            openers = proven
        }
        guard openers.count >= 2 * t + 1 else { return nil }
        let basis = Array(openers.prefix(2 * t + 1))
        let basisValues = basis.compactMap { openings[$0]?[instance].maskedProduct.value }
        guard basisValues.count == basis.count else { return nil }
        let w = Lagrange.interpolate(indices: basis, values: basisValues)
        guard let wInverse = try? w.inverse() else { return nil }
        var keyProducts: [PartyIndex: KeyProductClaim] = [:]
        for j in allOpeners {
            guard let o = openings[j]?[instance] else { continue }
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

    /// Records a violation. Equivocation removes a dealer only while QUAL is open (rounds 1–2).
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
