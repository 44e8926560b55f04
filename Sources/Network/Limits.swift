/// Resource limits of the peer mesh, as named constants so that every bound is visible and reviewable.
///
/// They keep one bad or slow peer from starving the rest: every queue is bounded, every peer is rate limited,
/// and every frame has a maximum size checked before any allocation.
public struct NetworkLimits: Sendable {
    /// Largest envelope accepted or sent (the frame's length prefix is checked before buffering).
    public var maximumMessageBytes: Int = 4 << 20
    /// Inbound messages per second allowed per peer (token-bucket refill rate).
    public var messagesPerSecondPerPeer: Double = 5_000
    /// Inbound burst allowed per peer (token-bucket capacity).
    public var messageBurstPerPeer: Double = 10_000
    /// Inbound bytes per second allowed per peer.
    public var bytesPerSecondPerPeer: Double = 64 * 1_048_576
    /// Messages dropped for rate limiting before the peer is disconnected as abusive.
    public var throttledMessagesBeforeDisconnect: Int = 50_000
    /// Outbound bytes that may wait in one peer's channel before further sends to it are dropped
    /// (back-pressure: a slow peer costs bounded memory and never blocks sends to others).
    public var outboundQueueBytesPerPeer: Int = 16 << 20
    /// Gossip content items remembered (for de-duplication and answering pulls), oldest evicted first.
    public var gossipCacheEntries: Int = 16_384
    /// Outstanding gossip pulls (content we asked for and have not received).
    public var pendingPulls: Int = 4_096
    /// Time allowed for the authentication handshake of a new connection.
    public var handshakeTimeoutMilliseconds: Int64 = 10_000
    /// Reconnect back-off: first delay, cap, and the random jitter fraction.
    public var reconnectInitialMilliseconds: Int64 = 100
    public var reconnectMaximumMilliseconds: Int64 = 10_000
    public var reconnectJitter: Double = 0.5
    /// How often each peer must answer a fresh-nonce attestation challenge, and how long it may take.
    public var reattestationIntervalMilliseconds: Int64 = 60_000
    public var reattestationTimeoutMilliseconds: Int64 = 10_000
    /// A peer silent for this long is pinged; one that then stays silent for the timeout is disconnected
    /// (so a partition is noticed and the reconnect loop can redial once it heals).
    public var livenessIntervalMilliseconds: Int64 = 5_000
    public var livenessTimeoutMilliseconds: Int64 = 10_000
    /// Signed address records older than this are ignored.
    public var addressRecordMaximumAgeMilliseconds: UInt64 = 24 * 3_600_000

    public init() {}
}
