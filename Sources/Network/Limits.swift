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
    /// Outbound bytes that may wait in one peer's channel before further sends to it are refused: `send` throws
    /// `MeshError.outboundQueueFull`, `broadcast` returns the peers it could not reach (back-pressure: a slow peer
    /// costs bounded memory and never blocks sends to others).
    public var outboundQueueBytesPerPeer: Int = 16 << 20
    /// Gossip content items remembered (for de-duplication and answering pulls), oldest evicted first.
    public var gossipCacheEntries: Int = 16_384
    /// Outstanding gossip pulls (content we asked for and have not received).
    public var pendingPulls: Int = 4_096
    /// Outstanding pulls addressed to one peer: a peer that pushes hashes it never delivers can hold only this
    /// many, so it cannot fill the table and cut us off from everyone else's gossip.
    public var pendingPullsPerPeer: Int = 256
    /// A pull unanswered for this long is retried from another peer that pushed the same hash, or forgotten.
    public var pendingPullTimeout: Duration = .seconds(5)
    /// Events (messages, connection changes) waiting for the consumer of `Mesh.events`. At this many, or at
    /// `eventBufferBytes` of payload, every connection stops reading (TCP pushes back on the senders) until the
    /// consumer has caught up to half of both.
    public var eventBufferMessages: Int = 4_096
    public var eventBufferBytes: Int = 64 << 20
    /// Inbound connections still authenticating, in all and per source address (slow-handshake floods).
    public var handshakesInProgressMax: Int = 128
    public var handshakesPerAddressMax: Int = 16
    /// Time the non-deciding side waits for the decider's verdict byte after authentication.
    public var verdictTimeout: Duration = .seconds(10)
    /// Connections of one peer that may wait for its verdict at once: authentication frees the handshake slot,
    /// so without this a deciding peer that never answers could keep any number open until their timeouts.
    /// (Honest pairs in the mesh simulation had at most 4, both ends dialling each other again and again.)
    public var verdictWaitsPerPeerMax: Int = 8
    /// A peer's attestation challenges are answered at most once per this interval, or per half of
    /// `reattestationInterval` if that is shorter (evidence is expensive).
    public var attestationAnswerInterval: Duration = .seconds(10)
    /// Address records kept, and records read from one address message (one message per connection is read).
    public var addressRecordsMax: Int = 1_024
    public var addressListRecordsMax: Int = 256
    /// Time allowed for the authentication handshake of a new connection.
    public var handshakeTimeout: Duration = .seconds(10)
    /// Reconnect back-off: first delay, cap, and the random jitter fraction.
    public var reconnectInitial: Duration = .milliseconds(100)
    public var reconnectMaximum: Duration = .seconds(10)
    public var reconnectJitter: Double = 0.5
    /// How often each peer must answer a fresh-nonce attestation challenge, and how long it may take.
    public var reattestationInterval: Duration = .seconds(60)
    public var reattestationTimeout: Duration = .seconds(10)
    /// A peer silent for this long is pinged; one that then stays silent for the timeout is disconnected
    /// (so a partition is noticed and the reconnect loop can redial once it heals).
    public var livenessInterval: Duration = .seconds(5)
    public var livenessTimeout: Duration = .seconds(10)
    /// Period of the mesh's timer (redials, liveness, re-attestation, verdict waits and late pulls are checked
    /// on each tick): the granularity of every time limit above.
    public var timerResolution: Duration = .milliseconds(20)
    /// Signed address records older than this are ignored.
    public var addressRecordMaximumAge: Duration = .seconds(24 * 3_600)

    public init() {}
}
