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
    /// Heights ahead of the current one that are buffered at all; further messages mean we lag and must catch up
    /// from certificates instead.
    public static let futureHeightsMax: Height = 8
    /// Distinct packets remembered for duplicate suppression at one height. On overflow the memory is cleared,
    /// which only costs re-verification, never safety (the process suppresses duplicates per sender too).
    public static let seenPacketsMax = 65_536
    /// Commit certificates kept to let lagging peers catch up.
    public static let certificateHistoryMax = 64
}
