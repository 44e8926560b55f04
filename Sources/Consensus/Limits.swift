/// Every bound the consensus module enforces, in one place. Relationships between them are asserted in
/// `Tests/ConsensusTests/LimitsTests.swift`.
public enum Limits {
    /// Largest proposed value. Values are application blocks or batches; 1 MiB keeps a proposal within one
    /// network frame and bounds what a Byzantine proposer can make every replica store per round.
    public static let valueBytesMax = 1 << 20
    /// Largest validator set. Bounds certificate size (one precommit per validator) and per-sender state.
    public static let validatorsMax = 1_024
    /// Largest signed message on the wire: a proposal header (59 bytes), its value and a 64-byte signature.
    public static let signedMessageBytesMax = valueBytesMax + 128
    /// Largest commit certificate: header and value plus one signed precommit (144 bytes) per validator.
    public static let certificateBytesMax = valueBytesMax + 64 + validatorsMax * 160
    /// Largest packet a replica accepts at all.
    public static let packetBytesMax = certificateBytesMax
    /// Highest round a process enters. Rounds only advance through quorum-backed timeouts or f+1 skips, so
    /// this is far beyond any live run; it keeps timeout arithmetic from overflowing.
    public static let roundMax: Round = 1 << 20
    /// Rounds above the current one whose messages are stored. Messages further ahead still count towards
    /// the f+1 round skip (L55) but are not kept; peers resend them after the skip.
    public static let roundsAheadStoredMax: Round = 8
    /// Different votes kept per sender for one (round, step). Honest senders have one; keeping a few conflicting
    /// ones lets Byzantine votes count for every value they back, as the paper counts them (see `RoundLog`).
    public static let votesPerSenderMax = 4
    /// Messages buffered per sender for future heights (the value Hyperdrive uses). Overflow drops the message
    /// with the highest (height, round), which is the one least likely to be needed soon.
    public static let senderQueueMessagesMax = 1_000
    /// Bytes buffered per sender for future heights: four of the largest proposals. A member cannot make every
    /// replica hold more than this for it, whatever it signs.
    public static let senderQueueBytesMax = 4 * signedMessageBytesMax
    /// Bytes buffered for future heights over all senders. Per-sender caps alone would allow validatorsMax × 4 MiB;
    /// on overflow the largest queue loses its last message, so senders within their share keep theirs.
    public static let futureQueueBytesMax = 64 * signedMessageBytesMax
    /// Heights ahead of the current one that are buffered at all; further messages mean we lag and must catch up
    /// from certificates instead.
    public static let futureHeightsMax: Height = 8
    /// Distinct packets remembered for duplicate suppression at one height (as 32-byte SHA-256 digests, and only
    /// once the packet passed its signature check and the process stored it). On overflow the memory is cleared,
    /// which only costs re-verification, never safety (the process suppresses duplicates per sender too).
    public static let seenPacketsMax = 65_536
    /// Largest WAL entry in a byte-level log (`WALRecords`): a signed proposal with the largest value (tag and length
    /// add 5 bytes), or a polka of one prevote per validator (15 bytes of header, 4 + 144 per prevote). A record
    /// that claims more is damage, not a torn append.
    public static let walRecordBytesMax = signedMessageBytesMax + 64
    /// Commit certificates kept to let lagging peers catch up.
    public static let certificateHistoryMax = 64
}

/// The replica's buffers, with the production values from `Limits` as defaults. A value so that tests can reach the
/// caps with small messages.
public struct ReplicaBounds: Sendable, Equatable {
    /// Messages buffered per sender for future heights.
    public var senderQueueMessagesMax: Int
    /// Bytes buffered per sender for future heights.
    public var senderQueueBytesMax: Int
    /// Bytes buffered for future heights over all senders; overflow evicts from the largest queue.
    public var futureQueueBytesMax: Int
    /// Packet digests remembered for duplicate suppression at one height.
    public var seenPacketsMax: Int

    public init(senderQueueMessagesMax: Int = Limits.senderQueueMessagesMax,
                senderQueueBytesMax: Int = Limits.senderQueueBytesMax,
                futureQueueBytesMax: Int = Limits.futureQueueBytesMax,
                seenPacketsMax: Int = Limits.seenPacketsMax) {
        self.senderQueueMessagesMax = senderQueueMessagesMax
        self.senderQueueBytesMax = senderQueueBytesMax
        self.futureQueueBytesMax = futureQueueBytesMax
        self.seenPacketsMax = seenPacketsMax
    }
}

/// What a replica holds in its buffers (for tests of the bounds and for metrics).
public struct ReplicaFootprint: Sendable, Equatable {
    public var futureMessages: Int
    public var futureBytes: Int
    public var seenPackets: Int
}
