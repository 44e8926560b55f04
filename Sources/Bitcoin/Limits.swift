/// Named limits for everything the module decodes. Each says why the number is what it is.
public enum Limits {
    /// Consensus maximum block weight (BIP141) is 4,000,000 WU, so no transaction or block exceeds 4 MB of bytes.
    public static let transactionBytesMax = 4_000_000
    /// Standard-policy script size limit for any script we build or parse (MAX_SCRIPT_SIZE in Core).
    public static let scriptBytesMax = 10_000
    /// A push larger than 520 bytes is invalid in consensus (MAX_SCRIPT_ELEMENT_SIZE).
    public static let scriptElementBytesMax = 520
    /// A 4 MB transaction cannot hold more than 4,000,000 / 41 inputs (41 = minimum input size).
    public static let transactionInputsMax = 100_000
    /// A 4 MB transaction cannot hold more than 4,000,000 / 9 outputs (9 = minimum output size).
    public static let transactionOutputsMax = 450_000
    /// Witness items per input: bounded by the 4 MB weight; 100,000 keeps allocation bounded when parsing.
    public static let witnessItemsMax = 100_000
    /// Witness item size: the whole block's weight bounds it.
    public static let witnessItemBytesMax = 4_000_000
    /// Keys in CHECKMULTISIG: consensus allows at most 20 (MAX_PUBKEYS_PER_MULTISIG).
    public static let multisigKeysMax = 20
    /// BIP68 relative locks are 16 bits of blocks.
    public static let relativeLockBlocksMax = 0xFFFF
    /// 21 million BTC in satoshi (MAX_MONEY).
    public static let moneyMax: UInt64 = 21_000_000 * 100_000_000
    /// A merkle path deeper than 32 levels would need more than 2^32 transactions, impossible in a 4 MB block.
    public static let merkleDepthMax = 32
    /// A block holds at most 4,000,000 / 60 transactions (60 bytes minimum with BIP54); Core's own bound for
    /// CMerkleBlock is MAX_BLOCK_WEIGHT / MIN_TRANSACTION_WEIGHT.
    public static let blockTransactionsMax = 4_000_000 / 60
    /// Headers verified in one call: ~10 years of blocks; keeps one verification bounded.
    public static let headersPerVerificationMax = 600_000
    /// bech32 strings are at most 90 characters (BIP173).
    public static let bech32CharactersMax = 90
}
