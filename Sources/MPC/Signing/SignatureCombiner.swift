import Secp256k1

/// One signer's message in online signing.
public struct SignatureShare: Sendable, Equatable {
    public let presignatureID: PresignatureID
    public let epoch: UInt64
    public let signer: PartyIndex
    public let digest: [UInt8]
    /// s_i, a share of the degree-2t sharing of s = k⁻¹(z + r·x).
    public let value: Scalar
    /// σ_i, its Pedersen blinding, so that the share can be checked publicly.
    public let blinding: Scalar

    public init(presignatureID: PresignatureID, epoch: UInt64, signer: PartyIndex, digest: [UInt8], value: Scalar,
                blinding: Scalar) {
        self.presignatureID = presignatureID
        self.epoch = epoch
        self.signer = signer
        self.digest = digest
        self.value = value
        self.blinding = blinding
    }
}

/// A released threshold signature: verified against the shard key, low-S, with its recovery id.
public struct ThresholdSignature: Sendable, Equatable {
    public let signature: ECDSASignature
    public let recoveryID: UInt8
    public let publicKey: PublicKey
    public let digest: [UInt8]

    /// r‖s‖v, v ∈ {27, 28}: what an EVM contract's `ecrecover` takes.
    public var recoverable: RecoverableSignature {
        try! RecoverableSignature(compact: signature.compact, recoveryID: recoveryID)
    }
}

/// Combines signature shares for one (presignature, digest): any 2t + 1 valid shares interpolate to s.
///
/// Optimistic path: interpolate the first 2t + 1 shares, normalise to low-S, verify against X, release.
/// Only when that fails is every share checked against its public commitment
/// (s_j·G + σ_j·H = w⁻¹(z·C_b(j) + r·P'_j) + C_ζ(j), with P'_j's product proof), so every bad share is
/// named (identifiable abort) and the signature is retried without it. Nothing unverified is ever released.
public struct SignatureCombiner: Sendable {
    public let presignature: PresignaturePublic
    public let key: KeyPublicData
    public let digest: [UInt8]
    private let z: Scalar
    private var shares: [PartyIndex: SignatureShare] = [:]
    private var rejected: Set<PartyIndex> = []
    private var checked: Set<PartyIndex> = []
    public private(set) var misbehaviour: [Misbehaviour] = []
    private var lagrange = LagrangeCache(setsMax: 16)

    public init(presignature: PresignaturePublic, key: KeyPublicData, digest: [UInt8]) throws(MPCError) {
        guard digest.count == 32 else { throw .malformed("digest must be 32 bytes") }
        guard presignature.epoch == key.epoch else {
            throw .staleEpoch(expected: key.epoch, got: presignature.epoch)
        }
        self.presignature = presignature
        self.key = key
        self.digest = digest
        z = Scalar(reducing: digest)
    }

    /// Shares needed: 2t + 1 (s is a degree-2t sharing).
    public var sharesNeeded: Int { 2 * key.threshold + 1 }

    /// Takes a share after checking that it belongs here. Does not check its value (see `combine`).
    public mutating func add(_ share: SignatureShare) throws(MPCError) {
        guard share.epoch == key.epoch else { throw .staleEpoch(expected: key.epoch, got: share.epoch) }
        guard share.presignatureID == presignature.id, share.digest == digest else { throw .shareMismatch }
        guard share.signer >= 1, share.signer <= key.committeeSize else { throw .unknownSender(share.signer) }
        if let previous = shares[share.signer] {
            throw previous == share ? .duplicate : .malformed("second, different share from one signer")
        }
        shares[share.signer] = share
    }

    /// The signature, if enough valid shares are in; nil while more are needed.
    public mutating func combine() -> ThresholdSignature? {
        let usable = shares.keys.filter { !rejected.contains($0) }.sorted()
        guard usable.count >= sharesNeeded else { return nil }
        if let signature = attempt(with: Array(usable.prefix(sharesNeeded))) { return signature }
        // Pessimistic path: check every unchecked share, name the bad ones, retry with the good ones.
        for signer in usable where !checked.contains(signer) {
            checked.insert(signer)
            if let share = shares[signer], !isValid(share) {
                rejected.insert(signer)
                misbehaviour.append(.invalidSignatureShare(culprit: signer))
            }
        }
        let valid = usable.filter { !rejected.contains($0) }
        guard valid.count >= sharesNeeded else { return nil }
        return attempt(with: Array(valid.prefix(sharesNeeded)))
    }

    /// Signers whose shares were proven bad.
    public var rejectedSigners: [PartyIndex] { rejected.sorted() }

    /// Checks one share against the public commitments and the signer's key-product proof.
    public func isValid(_ share: SignatureShare) -> Bool {
        guard let expected = presignature.expectedShareCommitment(of: share.signer, digest: z) else { return false }
        guard VerifiableShare.publicCommitment(value: share.value, blinding: share.blinding) == expected else { return false }
        return presignature.keyProductIsProven(for: share.signer, publicShare: key.publicShare(of: share.signer))
    }

    private mutating func attempt(with signers: [PartyIndex]) -> ThresholdSignature? {
        let lambdas = lagrange.coefficients(for: signers)
        var s = Scalar.zero
        for (lambda, signer) in zip(lambdas, signers) {
            guard let share = shares[signer] else { return nil }
            s += lambda * share.value
        }
        guard !s.isZeroVar else { return nil }
        var signature = ECDSASignature(r: presignature.r, s: s)
        var recoveryID = presignature.baseRecoveryID
        if signature.isHighS {
            signature = signature.normalized
            recoveryID ^= 1
        }
        guard let publicKey = try? PublicKey(point: key.publicKey), publicKey.isValidSignature(signature, for: digest)
        else { return nil }
        return ThresholdSignature(signature: signature, recoveryID: recoveryID, publicKey: publicKey, digest: digest)
    }
}
