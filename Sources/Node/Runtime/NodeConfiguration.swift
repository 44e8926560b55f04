import Consensus

/// How a node runs consensus on top of its mesh. Defaults suit a LAN or a localnet; a WAN deployment raises the
/// timeouts (`TimeoutPolicy.wideArea`).
public struct NodeConfiguration: Sendable {
    public var timeouts = TimeoutPolicy(proposeBase: .seconds(3), prevoteBase: .seconds(1), precommitBase: .seconds(1), delta: .milliseconds(500))
    /// After deciding an empty block with an empty mempool, outbound consensus traffic is held this long, so an idle
    /// shard makes a block per interval instead of as many as the network allows (CometBFT's timeout_commit).
    public var idleBlockInterval: Duration = .milliseconds(500)
    /// How often the replica re-sends its current messages when nothing moved (lost packets, restarted peers).
    public var tickInterval: Duration = .seconds(1)
    /// Certificates per sync answer, and the bytes one answer may carry.
    public var syncBatch = 32
    public var syncAnswerBytesMax = 3 << 20
    /// A node behind its peers asks again for blocks at most this often.
    public var syncRequestInterval: Duration = .milliseconds(300)
    /// Verified-signature cache entries (votes are checked once even when they arrive from several peers).
    public var verifierCacheEntries = 16_384
    public var mempool = Mempool.Limits()
    /// Presignature pool target, batch size and MPC round timing.
    public var mpc = MPCDriver.Settings()
    /// Members that must answer "the highest message you saw me sign" before consensus starts (the rollback check,
    /// `StoreRolledBack`): nil = t + 1, so at least one answer is from an honest member; 0 = no check (tests of
    /// other things only).
    public var signedHeightWitnesses: Int?
    /// How often the question is asked again of connected members that have not answered.
    public var signedHeightRequestInterval: Duration = .milliseconds(250)

    public init() {}
}
