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

/// The dealing step shared by key generation (GJKR phase 1), presignatures and resharing: every dealer
/// broadcasts commitments and sends each receiver its shares; receivers complain about bad or missing
/// shares; accused dealers reveal the disputed shares in public; a dealer that cannot is disqualified.
/// Following Gennaro, Jarecki, Krawczyk, Rabin (EUROCRYPT'99), steps 1(a)–1(d).
///
/// Everything that decides the qualified dealer set (QUAL) comes from broadcast messages, so every honest
/// member computes the same set from the same ordered transcript.
struct DealingPhase: Sendable {
    let specs: [SharingSpec]
    let dealers: [PartyIndex]
    let receivers: [PartyIndex]
    /// This party's receiver index, if it receives.
    let me: PartyIndex?
    /// When resharing: dealer d's first sharing must have C_0 equal to this point (its public key share).
    let requiredConstants: [PartyIndex: Point]

    private(set) var commitments: [PartyIndex: [[Point]]] = [:]
    private(set) var myShares: [PartyIndex: [VerifiableShare]] = [:]
    private(set) var complaints: [PartyIndex: [PartyIndex]] = [:]  // complainer → dealers
    private(set) var answers: [PartyIndex: [ComplaintAnswer]] = [:]
    /// Dealers out of the running, with the reason.
    private(set) var disqualified: [PartyIndex: Misbehaviour] = [:]

    init(
        specs: [SharingSpec], dealers: [PartyIndex], receivers: [PartyIndex], me: PartyIndex?,
        requiredConstants: [PartyIndex: Point] = [:]
    ) {
        self.specs = specs
        self.dealers = dealers
        self.receivers = receivers
        self.me = me
        self.requiredConstants = requiredConstants
    }

    // MARK: Dealing

    /// Deals this party's sharings: commitments for everyone, shares per receiver.
    static func deal(
        specs: [SharingSpec], secrets: [Scalar], receivers: [PartyIndex],
        using rng: inout some RandomNumberGenerator
    ) -> (commitments: [[Point]], shares: [PartyIndex: [VerifiableShare]]) {
        precondition(secrets.count == specs.count)
        var commitments: [[Point]] = []
        var shares: [PartyIndex: [VerifiableShare]] = [:]
        for receiver in receivers { shares[receiver] = [] }
        for (spec, secret) in zip(specs, secrets) {
            let value = Polynomial.random(degree: spec.degree, constantTerm: spec.zeroConstant ? .zero : secret, using: &rng)
            if spec.hiding {
                let blindingConstant = spec.zeroConstant ? Scalar.zero : Scalar.random(using: &rng)
                let blinding = Polynomial.random(degree: spec.degree, constantTerm: blindingConstant, using: &rng)
                commitments.append(PedersenCommitment(polynomial: value, blinding: blinding).coefficients)
                for receiver in receivers {
                    shares[receiver]!.append(
                        VerifiableShare(value: value.evaluate(at: receiver), blinding: blinding.evaluate(at: receiver)))
                }
            } else {
                commitments.append(FeldmanCommitment(polynomial: value).coefficients)
                for receiver in receivers {
                    shares[receiver]!.append(VerifiableShare(value: value.evaluate(at: receiver)))
                }
            }
        }
        return (commitments, shares)
    }

    // MARK: Round 1: commitments and shares

    /// Takes a dealer's broadcast commitments; a wrong shape or constant disqualifies the dealer publicly.
    mutating func acceptCommitments(from dealer: PartyIndex, _ vectors: [[Point]]) -> Misbehaviour? {
        commitments[dealer] = vectors
        var valid = vectors.count == specs.count
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
        return nil
    }

    /// Takes the shares a dealer sent this party privately.
    mutating func acceptShares(from dealer: PartyIndex, _ shares: [VerifiableShare]) throws(MPCError) {
        guard shares.count == specs.count else { throw .malformed("expected \(specs.count) shares") }
        guard myShares[dealer] == nil else { throw .duplicate }
        myShares[dealer] = shares
    }

    /// Dealers that published commitments and are not (yet) disqualified.
    var candidates: [PartyIndex] {
        dealers.filter { commitments[$0] != nil && disqualified[$0] == nil }
    }

    /// Dealers whose shares for this party are missing or fail their commitments. With `optimistic`, first
    /// checks the sum over all dealers for each sharing (one check instead of one per dealer; a dealer's
    /// error could only cancel against another dealer's, and then the summed share, the only one used, is
    /// right), and only looks at single dealers for sharings whose sum fails.
    func badDealers(optimistic: Bool) -> [PartyIndex] {
        guard let me else { return [] }
        let dealersToCheck = candidates
        var bad = Set(dealersToCheck.filter { myShares[$0] == nil })
        let present = dealersToCheck.filter { myShares[$0] != nil }
        for (slot, spec) in specs.enumerated() {
            if optimistic && present.count > 1 {
                let summedCommitment = ExponentPolynomial.sum(present.map { commitments[$0]![slot] })
                let summedShare = present.reduce(VerifiableShare(value: .zero)) { $0 + myShares[$1]![slot] }
                if Self.check(summedShare, against: summedCommitment, spec: spec, at: me) { continue }
            }
            for dealer in present where !bad.contains(dealer) {
                if !Self.check(myShares[dealer]![slot], against: commitments[dealer]![slot], spec: spec, at: me) {
                    bad.insert(dealer)
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

    mutating func acceptComplaints(from complainer: PartyIndex, against accused: [PartyIndex]) throws(MPCError) {
        guard Set(accused).count == accused.count, accused.allSatisfy(dealers.contains) else {
            throw .malformed("complaints must name distinct dealers")
        }
        complaints[complainer] = accused
    }

    /// Whether any complaint names a dealer that is still a candidate (then an answer round is needed).
    var needsAnswers: Bool {
        let open = Set(candidates)
        return complaints.values.contains { $0.contains(where: open.contains) }
    }

    /// Complainers that accuse `dealer`.
    func complainers(of dealer: PartyIndex) -> [PartyIndex] {
        complaints.filter { $0.value.contains(dealer) }.map(\.key).sorted()
    }

    // MARK: Round 3: answers

    mutating func acceptAnswers(from dealer: PartyIndex, _ list: [ComplaintAnswer]) throws(MPCError) {
        guard list.allSatisfy({ $0.shares.count == specs.count }) else { throw .malformed("answer share count") }
        answers[dealer] = list
    }

    /// Resolves every complaint against a candidate: a public answer that verifies settles it (and, if this
    /// party complained, becomes its share); anything else disqualifies the dealer.
    mutating func resolveComplaints() -> [Misbehaviour] {
        var found: [Misbehaviour] = []
        for dealer in candidates {
            for complainer in complainers(of: dealer) {
                let answer = answers[dealer]?.first { $0.complainer == complainer }
                let valid = answer.map { answer in
                    zip(specs.indices, answer.shares).allSatisfy { slot, share in
                        Self.check(share, against: commitments[dealer]![slot], spec: specs[slot], at: complainer)
                    }
                } ?? false
                if valid, let answer {
                    if complainer == me { myShares[dealer] = answer.shares }
                } else {
                    let reason = Misbehaviour.unansweredComplaint(culprit: dealer, complainer: complainer)
                    disqualified[dealer] = reason
                    found.append(reason)
                    break
                }
            }
        }
        return found
    }

    /// Removes a dealer (e.g. an equivocator) from the running.
    mutating func disqualify(_ dealer: PartyIndex, because reason: Misbehaviour) {
        if disqualified[dealer] == nil { disqualified[dealer] = reason }
    }

    /// QUAL: the dealers whose sharings are summed.
    var qualified: [PartyIndex] { candidates }

    /// Σ over QUAL of the commitments of sharing `slot`.
    func summedCommitment(slot: Int) -> [Point] {
        ExponentPolynomial.sum(qualified.map { commitments[$0]![slot] })
    }

    /// Σ over QUAL of this party's shares of sharing `slot`.
    func summedShare(slot: Int) -> VerifiableShare {
        qualified.reduce(VerifiableShare(value: .zero)) { $0 + myShares[$1]![slot] }
    }

    /// Closes a dealing round: takes each dealer's commitments (broadcast) and this party's shares (direct) from
    /// `inbox`. A dealer with no commitments is disqualified as silent (unless it equivocated, which the inbox has
    /// already reported). Returns the misbehaviour found, in dealer order, for the session to record.
    mutating func collectDealings(from dealers: [PartyIndex], round: Int, inbox: RoundInbox) -> [Misbehaviour] {
        var found: [Misbehaviour] = []
        for dealer in dealers {
            guard case .commitments(let vectors)? = inbox.broadcast(round: round, from: dealer) else {
                if !inbox.equivocated(round: round, dealer) { found.append(.silent(culprit: dealer, round: round)) }
                disqualify(dealer, because: .silent(culprit: dealer, round: round))
                continue
            }
            if let bad = acceptCommitments(from: dealer, vectors) { found.append(bad) }
            if case .shares(let shares)? = inbox.directMessage(round: round, from: dealer) {
                try? acceptShares(from: dealer, shares)
            }
        }
        return found
    }
}
