import Secp256k1

/// Public facts about a shard key in one epoch: the key X and every member's public share X_i = x_i·G.
/// Anyone holding this can check signature shares and resharing dealers.
public struct KeyPublicData: Sendable, Equatable {
    /// Key generation is epoch 0; every reshare adds one. Material from other epochs is refused.
    public let epoch: UInt64
    /// Shamir degree t: t + 1 shares determine x; up to t faulty members are tolerated.
    public let threshold: Int
    /// X_1 … X_n, in index order.
    public let publicShares: [Point]
    /// X = x·G.
    public let publicKey: Point

    public var committeeSize: Int { publicShares.count }

    public func publicShare(of index: PartyIndex) -> Point { publicShares[index - 1] }

    /// X as a `PublicKey` (33-byte encoding, EVM address). X is never the identity: key generation fails rather
    /// than output it, and resharing keeps X.
    public var key: PublicKey { try! PublicKey(point: publicKey) }
}

/// One member's share of the shard key. Copyable (it is long-lived state), but never printed.
public struct KeyShare: Sendable, CustomStringConvertible {
    public let publicData: KeyPublicData
    public let index: PartyIndex
    /// x_i. Secret.
    let secret: Scalar

    init(publicData: KeyPublicData, index: PartyIndex, secret: Scalar) {
        self.publicData = publicData
        self.index = index
        self.secret = secret
    }

    public var epoch: UInt64 { publicData.epoch }
    public var threshold: Int { publicData.threshold }
    public var committeeSize: Int { publicData.committeeSize }

    public var description: String { "KeyShare(epoch \(epoch), index \(index), <redacted>)" }

    /// Test and simulation hook: the share value. Never call it in a node.
    public var secretForTesting: Scalar { secret }
}

/// Committee parameters, validated once.
public struct CommitteeParameters: Sendable, Equatable {
    public let size: Int
    public let threshold: Int

    /// n = 3t + 1 exactly (the shard's BFT bound, docs/mpc.md), t ≥ 1, n ≤ `Limits.partiesMax`.
    ///
    /// Why not n > 3t + 1: a signature needs 2t + 1 shares, and with n ≥ 3t + 2 two disjoint groups of t + 1
    /// honest signers (2t + 2 ≤ n − t) plus the same t corrupt ones could each finish a signature with the same
    /// R for different digests, which reveals the key. With n = 3t + 1 there are only 2t + 1 honest members, so
    /// any two signer sets share an honest member, and an honest member signs one digest per presignature.
    public init(size: Int, threshold: Int) throws(MPCError) {
        guard threshold >= 1, size == 3 * threshold + 1, size <= Limits.partiesMax else {
            throw .invalidParameters("need t ≥ 1 and n = 3t + 1 ≤ \(Limits.partiesMax); got n = \(size), t = \(threshold)")
        }
        self.size = size
        self.threshold = threshold
    }

    public var members: [PartyIndex] { Array(1...size) }
}
