import Crypto
import Secp256k1

/// What one dealt sharing looks like.
struct SharingSpec: Sendable, Equatable {
    /// Polynomial degree.
    let degree: Int
    /// Pedersen (hiding) or Feldman (blinding always zero, constant term revealed).
    let hiding: Bool
    /// A zero sharing: f(0) = 0 and g(0) = 0, so C_0 must be the identity (checked publicly).
    let zeroConstant: Bool

    var commitmentCount: Int { degree + 1 }
}

/// The dealing step shared by key generation (GJKR phase 1), presignatures and resharing, following Gennaro,
/// Jarecki, Krawczyk, Rabin (EUROCRYPT'99) steps 1(a)–1(c), with one change: GJKR assumes private channels and
/// a synchronous network, and answers a complaint by publishing the complainer's share. Here every share travels
/// encrypted inside the dealer's broadcast (`Dealing`, `ShareEncryption`), and a complaint discloses the
/// decryption key of that one ciphertext with a proof (`ShareDisclosure`), so everyone can judge it at once:
/// - no answer round, and no honest member's share is ever published (with public answers, a member whose
///   shares were merely late would have had all of them published: x_i in the clear);
/// - a late member finds its shares in the agreed transcript, like everything else.
///
/// Everything that decides QUAL comes from the agreed broadcast order, so every honest member computes the same
/// set.
struct DealingPhase: Sendable {
    let session: SessionID
    let specs: [SharingSpec]
    let dealers: [PartyIndex]
    let receivers: [PartyIndex]
    /// Identity public keys of the receivers, in receiver order.
    let receiverKeys: [Point]
    /// This party's receiver index and identity, if it receives.
    let me: PartyIndex?
    private let identity: MemberIdentity?
    /// Tolerated faulty receivers: a dealer with more proven complaints than this is disqualified.
    let faultyMax: Int
    /// When resharing: dealer d's first sharing must have C_0 equal to this point (its public key share).
    let requiredConstants: [PartyIndex: Point]

    private(set) var dealings: [PartyIndex: Dealing] = [:]
    private(set) var myShares: [PartyIndex: [VerifiableShare]] = [:]
    /// Dealers out of the running, with the reason.
    private(set) var disqualified: [PartyIndex: Misbehaviour] = [:]
    /// Per dealer, complainers whose disclosure carried a valid proof.
    private(set) var provenComplaints: [PartyIndex: Set<PartyIndex>] = [:]
    /// The dealers whose shares this party accepted by the summed (optimistic) check, per sharing slot; empty
    /// when every dealer was checked on its own.
    private(set) var checkedBySum: [Int: Set<PartyIndex>] = [:]

    init(
        session: SessionID, specs: [SharingSpec], dealers: [PartyIndex], receivers: [PartyIndex],
        receiverKeys: [Point], me: PartyIndex?, identity: MemberIdentity?, faultyMax: Int,
        requiredConstants: [PartyIndex: Point] = [:]
    ) throws(MPCError) {
        guard receiverKeys.count == receivers.count, receiverKeys.allSatisfy({ !$0.isIdentity }) else {
            throw .invalidParameters("one identity key per receiver")
        }
        if let me {
            guard let identity, let slot = receivers.firstIndex(of: me), receiverKeys[slot] == identity.publicKey
            else { throw .invalidParameters("this member's identity does not match its receiver key") }
        }
        self.session = session
        self.specs = specs
        self.dealers = dealers
        self.receivers = receivers
        self.receiverKeys = receiverKeys
        self.me = me
        self.identity = identity
        self.faultyMax = faultyMax
        self.requiredConstants = requiredConstants
    }

    // MARK: Dealing

    /// Deals this party's sharings: commitments for everyone, each receiver's shares encrypted to it. Returns
    /// the value polynomials too (key generation reveals them in Feldman form later).
    static func deal(
        session: SessionID, dealer: PartyIndex, specs: [SharingSpec], secrets: [Scalar], receivers: [PartyIndex],
        receiverKeys: [Point], tamper: ((PartyIndex, inout [VerifiableShare]) -> Void)? = nil,
        using rng: inout some RandomNumberGenerator
    ) -> (dealing: Dealing, polynomials: [Polynomial]) {
        precondition(secrets.count == specs.count && receiverKeys.count == receivers.count)
        var commitments: [[Point]] = []
        var polynomials: [Polynomial] = []
        var shares = [[VerifiableShare]](repeating: [], count: receivers.count)
        for (spec, secret) in zip(specs, secrets) {
            let value = Polynomial.random(degree: spec.degree, constantTerm: spec.zeroConstant ? .zero : secret, using: &rng)
            polynomials.append(value)
            if spec.hiding {
                let blindingConstant = spec.zeroConstant ? Scalar.zero : Scalar.random(using: &rng)
                let blinding = Polynomial.random(degree: spec.degree, constantTerm: blindingConstant, using: &rng)
                commitments.append(PedersenCommitment(polynomial: value, blinding: blinding).coefficients)
                for (slot, receiver) in receivers.enumerated() {
                    shares[slot].append(
                        VerifiableShare(value: value.evaluate(at: receiver), blinding: blinding.evaluate(at: receiver)))
                }
            } else {
                commitments.append(FeldmanCommitment(polynomial: value).coefficients)
                for (slot, receiver) in receivers.enumerated() {
                    shares[slot].append(VerifiableShare(value: value.evaluate(at: receiver)))
                }
            }
        }
        let e = Scalar.randomNonZero(using: &rng)
        let ephemeral = Point.generatorMultiple(e)
        var ciphertexts: [[UInt8]] = []
        for (slot, receiver) in receivers.enumerated() {
            tamper?(receiver, &shares[slot])
            let key = ShareEncryption.key(
                shared: receiverKeys[slot].timesSecret(e), session: session, dealer: dealer, receiver: receiver,
                ephemeral: ephemeral)
            ciphertexts.append(
                ShareEncryption.seal(
                    shares[slot], key: key,
                    associatedData: ShareEncryption.associatedData(session: session, dealer: dealer, receiver: receiver)))
        }
        return (Dealing(commitments: commitments, ephemeralKey: ephemeral, ciphertexts: ciphertexts), polynomials)
    }

    // MARK: Round 1: dealings

    /// Takes a dealer's broadcast; a wrong shape or constant disqualifies the dealer publicly. Decrypts this
    /// party's shares (a ciphertext that does not open simply leaves them missing, which draws a complaint).
    mutating func acceptDealing(from dealer: PartyIndex, _ dealing: Dealing) -> Misbehaviour? {
        let vectors = dealing.commitments
        var valid = vectors.count == specs.count && dealing.ciphertexts.count == receivers.count
            && !dealing.ephemeralKey.isIdentity
            && dealing.ciphertexts.allSatisfy { $0.count == ShareEncryption.ciphertextBytes(sharings: specs.count) }
        if valid {
            for (spec, vector) in zip(specs, vectors) where vector.count != spec.commitmentCount
                || (spec.zeroConstant && !vector[0].isIdentity)
            {
                valid = false
            }
        }
        if valid, let required = requiredConstants[dealer], vectors[0][0] != required { valid = false }
        guard valid else {
            let reason = Misbehaviour.invalidCommitment(culprit: dealer)
            disqualified[dealer] = reason
            return reason
        }
        // Only well-formed dealings are kept, so every later index into one is in range.
        dealings[dealer] = dealing
        if let me, let identity, let slot = receivers.firstIndex(of: me) {
            let shared = dealing.ephemeralKey.timesSecret(identity.secret)
            if let shares = open(dealing, from: dealer, for: me, slot: slot, shared: shared) {
                myShares[dealer] = shares
            }
        }
        return nil
    }

    private func open(_ dealing: Dealing, from dealer: PartyIndex, for receiver: PartyIndex, slot: Int, shared: Point)
        -> [VerifiableShare]?
    {
        let key = ShareEncryption.key(
            shared: shared, session: session, dealer: dealer, receiver: receiver, ephemeral: dealing.ephemeralKey)
        return ShareEncryption.open(
            dealing.ciphertexts[slot], sharings: specs.count, key: key,
            associatedData: ShareEncryption.associatedData(session: session, dealer: dealer, receiver: receiver))
    }

    /// Dealers that published a valid dealing and are not (yet) disqualified.
    var candidates: [PartyIndex] {
        dealers.filter { dealings[$0] != nil && disqualified[$0] == nil }
    }

    /// Dealers whose shares for this party are missing or fail their commitments. With `optimistic`, first
    /// checks the sum over all candidates for each sharing (one check instead of one per dealer) and looks at
    /// single dealers only for sharings whose sum fails. Errors of two dealers can cancel in that sum, which is
    /// harmless only while both stay qualified: `dealersFailingAfterQUALChanged` re-checks once QUAL is fixed.
    mutating func badDealers(optimistic: Bool) -> [PartyIndex] {
        guard let me else { return [] }
        let dealersToCheck = candidates
        var bad = Set(dealersToCheck.filter { myShares[$0] == nil })
        let present = dealersToCheck.filter { myShares[$0] != nil }
        for (slot, spec) in specs.enumerated() {
            if optimistic && present.count > 1 && sumChecks(slot: slot, dealers: present, at: me) {
                checkedBySum[slot] = Set(present)
                continue
            }
            for dealer in present where !bad.contains(dealer) {
                guard let share = myShares[dealer]?[slot], let vector = dealings[dealer]?.commitments[slot],
                    Self.check(share, against: vector, spec: spec, at: me)
                else {
                    bad.insert(dealer)
                    continue
                }
            }
        }
        // Shares that failed are useless to this party: if the dealer stays qualified (the complaint missed the
        // agreed close), using them would give a wrong share, so they count as missing.
        for dealer in bad { myShares[dealer] = nil }
        return bad.sorted()
    }

    private func sumChecks(slot: Int, dealers: [PartyIndex], at me: PartyIndex) -> Bool {
        var vectors: [[Point]] = []
        var summed = VerifiableShare(value: .zero)
        for dealer in dealers {
            guard let vector = dealings[dealer]?.commitments[slot], let share = myShares[dealer]?[slot] else {
                return false
            }
            vectors.append(vector)
            summed = summed + share
        }
        return Self.check(summed, against: ExponentPolynomial.sum(vectors), spec: specs[slot], at: me)
    }

    /// After QUAL is fixed: the qualified dealers whose shares to this party are wrong although an optimistic
    /// sum over a larger set passed (their errors cancelled against a dealer that later left QUAL). Re-checks
    /// the sum over QUAL for each such sharing, and single dealers only where that fails.
    func dealersFailingAfterQUALChanged() -> [PartyIndex] {
        guard let me else { return [] }
        let qual = qualified
        var bad: Set<PartyIndex> = []
        for (slot, accepted) in checkedBySum.sorted(by: { $0.key < $1.key }) where accepted != Set(qual) {
            if sumChecks(slot: slot, dealers: qual, at: me) { continue }
            for dealer in qual {
                guard let share = myShares[dealer]?[slot], let vector = dealings[dealer]?.commitments[slot],
                    Self.check(share, against: vector, spec: specs[slot], at: me)
                else {
                    bad.insert(dealer)
                    continue
                }
            }
        }
        return bad.sorted()
    }

    static func check(_ share: VerifiableShare, against coefficients: [Point], spec: SharingSpec, at index: PartyIndex)
        -> Bool
    {
        if !spec.hiding && !share.blinding.isZeroVar { return false }
        return share.commitment == ExponentPolynomial.evaluate(coefficients, at: index)
    }

    // MARK: Round 2: complaints

    static func disclosureContext(session: SessionID, dealer: PartyIndex, complainer: PartyIndex) -> [UInt8] {
        session.bytes + Wire.lengthPrefix(dealer) + Wire.lengthPrefix(complainer) + Array("complaint".utf8)
    }

    /// This party's proven complaints against `accused`.
    func disclosures(against accused: [PartyIndex], using rng: inout some RandomNumberGenerator) -> [ShareDisclosure] {
        guard let me, let identity else { return [] }
        return accused.compactMap { dealer in
            guard let dealing = dealings[dealer] else { return nil }
            let base = dealing.ephemeralKey
            return ShareDisclosure(
                dealer: dealer, sharedPoint: base.timesSecret(identity.secret),
                proof: EqualityProof.prove(
                    secret: identity.secret, base: base,
                    context: Self.disclosureContext(session: session, dealer: dealer, complainer: me), using: &rng))
        }
    }

    /// Judges one disclosure in public: nil if it is malformed or its proof fails (a false complaint), else
    /// whether the dealer's shares to the complainer are bad.
    func dealerIsGuilty(_ disclosure: ShareDisclosure, complainer: PartyIndex) -> Bool? {
        guard let dealing = dealings[disclosure.dealer], let slot = receivers.firstIndex(of: complainer),
            disclosure.proof.verify(
                publicKey: receiverKeys[slot], base: dealing.ephemeralKey, shared: disclosure.sharedPoint,
                context: Self.disclosureContext(session: session, dealer: disclosure.dealer, complainer: complainer))
        else { return nil }
        guard let shares = open(dealing, from: disclosure.dealer, for: complainer, slot: slot, shared: disclosure.sharedPoint)
        else { return true }
        for (index, spec) in specs.enumerated()
        where !Self.check(shares[index], against: dealing.commitments[index], spec: spec, at: complainer) {
            return true
        }
        return false
    }

    /// Takes one member's complaints (in the agreed order): a proven bad dealing disqualifies the dealer; an
    /// unproven or unfounded complaint names the complainer; more than t proven complaints disqualify a dealer.
    mutating func acceptComplaints(from complainer: PartyIndex, _ list: [ShareDisclosure]) -> [Misbehaviour] {
        guard receivers.contains(complainer) else { return [] }
        var found: [Misbehaviour] = []
        var seen: Set<PartyIndex> = []
        for disclosure in list {
            let dealer = disclosure.dealer
            guard seen.insert(dealer).inserted, dealings[dealer] != nil, disqualified[dealer] == nil else { continue }
            switch dealerIsGuilty(disclosure, complainer: complainer) {
            case nil:
                found.append(.falseComplaint(culprit: complainer, dealer: dealer))
            case false?:
                provenComplaints[dealer, default: []].insert(complainer)
                found.append(.falseComplaint(culprit: complainer, dealer: dealer))
            case true?:
                provenComplaints[dealer, default: []].insert(complainer)
                let reason = Misbehaviour.invalidShares(culprit: dealer, complainer: complainer)
                disqualified[dealer] = reason
                found.append(reason)
            }
            if disqualified[dealer] == nil, provenComplaints[dealer, default: []].count > faultyMax {
                let reason = Misbehaviour.tooManyComplaints(culprit: dealer)
                disqualified[dealer] = reason
                found.append(reason)
            }
        }
        return found
    }

    /// Removes a dealer (e.g. an equivocator) from the running. Only before QUAL is fixed.
    mutating func disqualify(_ dealer: PartyIndex, because reason: Misbehaviour) {
        if disqualified[dealer] == nil { disqualified[dealer] = reason }
    }

    /// QUAL: the dealers whose sharings are summed.
    var qualified: [PartyIndex] { candidates }

    /// Σ over QUAL of the commitments of sharing `slot`.
    func summedCommitment(slot: Int) -> [Point] {
        ExponentPolynomial.sum(qualified.compactMap { dealings[$0]?.commitments[slot] })
    }

    /// Σ over QUAL of this party's shares of sharing `slot`; fails if a qualified dealer's share is missing.
    func summedShare(slot: Int) throws(MPCError) -> VerifiableShare {
        var sum = VerifiableShare(value: .zero)
        for dealer in qualified {
            guard let share = myShares[dealer]?[slot] else { throw .missingShare(dealer: dealer) }
            sum = sum + share
        }
        return sum
    }

    /// The first qualified dealer whose share this party lacks, if any.
    var firstMissingShare: PartyIndex? { me == nil ? nil : qualified.first { myShares[$0] == nil } }

    /// Closes the dealing round: takes each dealer's dealing from the agreed transcript. A dealer without one
    /// is disqualified as silent (unless it equivocated, which the inbox has already reported). Returns the
    /// misbehaviour found, in dealer order.
    mutating func collectDealings(round: Int, inbox: RoundInbox) -> [Misbehaviour] {
        var found: [Misbehaviour] = []
        for dealer in dealers {
            guard case .dealing(let dealing)? = inbox.broadcast(round: round, from: dealer) else {
                if !inbox.equivocated(round: round, dealer) { found.append(.silent(culprit: dealer, round: round)) }
                disqualify(dealer, because: .silent(culprit: dealer, round: round))
                continue
            }
            if let bad = acceptDealing(from: dealer, dealing) { found.append(bad) }
        }
        return found
    }

    /// Closes the complaint round: judges every member's complaints, in member order.
    mutating func collectComplaints(round: Int, inbox: RoundInbox) -> [Misbehaviour] {
        var found: [Misbehaviour] = []
        for complainer in receivers {
            if case .complaints(let list)? = inbox.broadcast(round: round, from: complainer) {
                found += acceptComplaints(from: complainer, list)
            }
        }
        return found
    }
}
