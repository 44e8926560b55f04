import Crypto
import Secp256k1

/// Names one presignature: SHA-256 of its session and its position in the batch. Consensus assigns an id to
/// exactly one message; the ledger refuses it a second time.
public struct PresignatureID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    init(session: SessionID, instance: Int) {
        var hasher = SHA256()
        hasher.update(data: Array("darknode/mpc/presignature/v1".utf8))
        hasher.update(data: session.bytes)
        hasher.update(data: Wire.lengthPrefix(instance))
        bytes = Array(hasher.finalize())
    }

    /// Wraps 32 bytes received on the wire.
    public init(bytes: [UInt8]) throws(MPCError) {
        guard bytes.count == 32 else { throw .decoding("presignature id must be 32 bytes") }
        self.bytes = bytes
    }

    public var description: String { "Presignature(\(Hex.encode(bytes.prefix(6))))" }
}

/// What one member claimed about its share of b·x, for checking its signature shares later.
public struct KeyProductClaim: Sendable, Equatable {
    /// P'_j = b_j x_j·G + τ'_j·H.
    public let commitment: Point
    /// Proof that P'_j commits to the product of the values in C_b(j) and X_j.
    public let proof: ProductProof
}

/// The public half of a presignature: everything a combiner needs to check signature shares.
public struct PresignaturePublic: Sendable, Equatable {
    public let id: PresignatureID
    public let session: SessionID
    public let instance: Int
    public let epoch: UInt64
    public let threshold: Int
    /// R = k·G and r = R.x mod n.
    public let nonce: Point
    public let r: Scalar
    /// w⁻¹, where w = k·b was opened by multiply-and-open.
    public let wInverse: Scalar
    /// Σ over QUAL of the Pedersen commitments of [b] (so [k⁻¹] = w⁻¹·[b] is committed by w⁻¹·C_b).
    public let bCommitment: [Point]
    /// Σ over QUAL of the commitments of the degree-2t zero sharing [ζ] that masks signature shares.
    public let maskCommitment: [Point]
    /// Every opener's P'_j with its proof.
    public let keyProducts: [PartyIndex: KeyProductClaim]

    /// The recovery id of any signature made with this nonce, before low-S normalisation. (R is never the
    /// identity: presigning drops an instance whose R has no x-coordinate.)
    var baseRecoveryID: UInt8 {
        guard let x = nonce.xCoordinate, let odd = nonce.hasOddY else { return 0 }
        let overflow = Scalar(reducing: x).bytes != x  // R.x ≥ n: negligible, but part of the definition
        return (odd ? 1 : 0) | (overflow ? 2 : 0)
    }

    /// The commitment s_j·G + σ_j·H that member j's signature share for digest z must open:
    /// w⁻¹·(z·C_b(j) + r·P'_j) + C_ζ(j).
    func expectedShareCommitment(of signer: PartyIndex, digest z: Scalar) -> Point? {
        guard let claim = keyProducts[signer] else { return nil }
        let cb = ExponentPolynomial.evaluate(bCommitment, at: signer)
        return (cb.timesPublic(z) + claim.commitment.timesPublic(r)).timesPublic(wInverse)
            + ExponentPolynomial.evaluate(maskCommitment, at: signer)
    }

    /// Whether member j's P'_j is proven to commit to b_j·x_j.
    func keyProductIsProven(for signer: PartyIndex, publicShare: Point) -> Bool {
        guard let claim = keyProducts[signer] else { return false }
        let cb = ExponentPolynomial.evaluate(bCommitment, at: signer)
        return claim.proof.verify(
            commitments: (cb, publicShare, claim.commitment),
            context: PresignSession.proofContext(session: session, instance: instance, prover: signer, label: "bx"))
    }
}

/// One member's half of a presignature: shares of k⁻¹, of k⁻¹·x and of a zero mask, each with its
/// Pedersen blinding. Non-copyable: the only way to use it is `signatureShare(…)`, which consumes it, so the
/// same value cannot sign twice. Writing
///
/// ```swift
/// let first = try presignature.signatureShare(for: assignmentA, ledger: &ledger)
/// let second = try presignature.signatureShare(for: assignmentB, ledger: &ledger)  // error: 'presignature' used after consume
/// ```
///
/// does not compile. The ledger adds the runtime guard for copies that the type system cannot see (a
/// presignature rebuilt from storage, or a second node holding the same id).
public struct Presignature: ~Copyable, Sendable {
    public let publicData: PresignaturePublic
    public let index: PartyIndex
    let kInverse: VerifiableShare
    let keyProduct: VerifiableShare
    let mask: VerifiableShare

    init(publicData: PresignaturePublic, index: PartyIndex, kInverse: VerifiableShare, keyProduct: VerifiableShare,
         mask: VerifiableShare) {
        self.publicData = publicData
        self.index = index
        self.kInverse = kInverse
        self.keyProduct = keyProduct
        self.mask = mask
    }

    public var id: PresignatureID { publicData.id }

    /// The one message of online signing: s_i = z·k⁻¹_i + r·(k⁻¹x)_i + ζ_i, with blinding
    /// σ_i = z·γ_i + r·τ_i + ζ'_i (shares.md "Online signing"). Consumes the presignature and signs only the
    /// digest that `assignment` binds to this presignature's id and epoch (consensus makes the assignment; two
    /// digests signed with one R would reveal the key); the ledger refuses an id it has seen or another epoch.
    /// Constant-time in the secrets.
    public consuming func signatureShare(for assignment: PresignatureAssignment, ledger: inout PresignatureLedger)
        throws(MPCError) -> SignatureShare
    {
        guard assignment.id == id, assignment.epoch == publicData.epoch else { throw .assignmentMismatch }
        let digest = assignment.digest
        try ledger.markUsed(id, epoch: publicData.epoch)
        let z = Scalar(reducing: digest)
        let r = publicData.r
        let value = z * kInverse.value + r * keyProduct.value + mask.value
        let blinding = z * kInverse.blinding + r * keyProduct.blinding + mask.blinding
        return SignatureShare(
            presignatureID: id, epoch: publicData.epoch, signer: index, digest: digest, value: value, blinding: blinding)
    }
}

/// Which digest a presignature signs: (id, digest, epoch), decided once by consensus (until the node exists, by
/// the caller). `Presignature.signatureShare` refuses any presignature other than `id`.
public struct PresignatureAssignment: Sendable, Equatable {
    public let id: PresignatureID
    public let digest: [UInt8]
    public let epoch: UInt64

    public init(id: PresignatureID, digest: [UInt8], epoch: UInt64) throws(MPCError) {
        guard digest.count == 32 else { throw .malformed("digest must be 32 bytes") }
        self.id = id
        self.digest = digest
        self.epoch = epoch
    }
}

/// Presignature ids already used in this epoch. In a node this lives in replicated (consensus) state, not
/// only in local storage, so that a rolled-back disk cannot resurrect a used presignature (docs/mpc.md).
public struct PresignatureLedger: Sendable {
    public private(set) var epoch: UInt64
    private var used: Set<PresignatureID> = []

    public init(epoch: UInt64) { self.epoch = epoch }

    /// Records `id` as used; throws if it was used before or belongs to another epoch.
    public mutating func markUsed(_ id: PresignatureID, epoch presignatureEpoch: UInt64) throws(MPCError) {
        guard presignatureEpoch == epoch else { throw .staleEpoch(expected: epoch, got: presignatureEpoch) }
        guard used.count < Limits.usedPresignaturesMax else { throw .invalidParameters("ledger full") }
        guard used.insert(id).inserted else { throw .presignatureAlreadyUsed(id) }
    }

    public func hasUsed(_ id: PresignatureID) -> Bool { used.contains(id) }

    /// A new epoch: every presignature of the old epoch becomes unusable (their epoch no longer matches).
    public mutating func advance(to newEpoch: UInt64) throws(MPCError) {
        guard newEpoch > epoch else { throw .staleEpoch(expected: epoch, got: newEpoch) }
        epoch = newEpoch
        used.removeAll()
    }
}

/// Presignatures handed out by a finished presign session, one at a time. Non-copyable, so the batch (and the
/// secrets in it) exists once.
public struct PresignatureBatch: ~Copyable, Sendable {
    private var remaining: [PresignatureMaterial]

    init(_ materials: [PresignatureMaterial]) { remaining = materials.reversed() }

    public var count: Int { remaining.count }

    /// The next presignature, removed from the batch.
    public mutating func next() -> Presignature? {
        guard let m = remaining.popLast() else { return nil }
        return Presignature(publicData: m.publicData, index: m.index, kInverse: m.kInverse, keyProduct: m.keyProduct,
                            mask: m.mask)
    }
}

/// Internal, copyable form inside a running session.
struct PresignatureMaterial: Sendable {
    let publicData: PresignaturePublic
    let index: PartyIndex
    let kInverse: VerifiableShare
    let keyProduct: VerifiableShare
    let mask: VerifiableShare
}
