/// Every bound the shard's rules and decoders enforce, in one place. Each exists so that a Byzantine proposer or
/// a hostile client cannot make every node store or compute more than these allow.
public enum ShardLimits {
    /// Transactions in one block.
    public static let transactionsPerBlockMax = 4_096
    /// Headers relayed in one transaction (a day of Bitcoin blocks is 144; catching up from a checkpoint may need more).
    public static let headersPerTransactionMax = 2_016
    /// Relayed headers kept in state. Deposits must be in a block inside this window, and a Bitcoin reorganisation
    /// is followed only if it forks inside it. Two weeks of Bitcoin blocks.
    public static let headerWindow = 2_016
    /// A deposit transaction's raw bytes (Bitcoin's standardness limit is 400,000 weight units = 100 kvB).
    public static let depositTransactionBytesMax = 100_000
    /// Coins one sweep spends: keeps the sweep under Bitcoin's standard transaction weight.
    public static let sweepInputsMax = 256
    /// Presignature ids registered by one batch transaction.
    public static let presignaturesPerBatchMax = 4_096
    /// Unassigned presignatures the pool in state may hold.
    public static let presignaturePoolMax = 65_536
    /// Signature results per transaction.
    public static let signaturesPerTransactionMax = 4_096
    /// Signing requests waiting for a signature. A block that would exceed it is invalid, so a flood of requests
    /// waits in the mempool instead of in replicated state.
    public static let pendingRequestsMax = 65_536
    /// Committee size (the consensus validator bound).
    public static let committeeMax = 1_024
    /// Selectors one shard serves ("BTC/toEthereum").
    public static let selectorsMax = 16
    /// A selector's or chain id's UTF-8 bytes.
    public static let nameBytesMax = 64
    /// Misbehaviour evidence bytes in one transaction (two signed consensus messages with their values).
    public static let evidenceBytesMax = 2 * (1 << 20) + 1_024
    /// One MPC broadcast payload (a presignature batch's openings for a few hundred instances fit).
    public static let mpcPayloadBytesMax = 512 << 10
    /// Blocks for which an MPC broadcast slot (session, sender, round) stays taken: far longer than any session
    /// lives, so a replayed message can never enter a running session twice, and the table stays bounded.
    public static let mpcSlotRetentionBlocks: UInt64 = 10_000
    /// MPC broadcast slots held at once.
    public static let mpcSlotsMax = 1 << 20
    /// Largest encoded state accepted when a node restores a snapshot.
    public static let stateBytesMax = 256 << 20
}
