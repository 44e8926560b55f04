import Crypto

/// One block of the shard's chain: the consensus value decided at `height`. It names its parent by hash (the
/// genesis hash for height 1) and the state root after its parent, so a node that syncs blocks checks each against
/// the state it computed; its own commit certificate travels beside it (`CommittedBlock`), since it exists only after
/// the block is decided.
public struct ShardBlock: Sendable, Equatable {
    public let height: UInt64
    public let previousHash: [UInt8]
    public let epoch: UInt64
    /// Root of the state after the parent block.
    public let stateRoot: [UInt8]
    public let transactions: [ShardTransaction]

    public init(height: UInt64, previousHash: [UInt8], epoch: UInt64, stateRoot: [UInt8], transactions: [ShardTransaction]) {
        self.height = height
        self.previousHash = previousHash
        self.epoch = epoch
        self.stateRoot = stateRoot
        self.transactions = transactions
    }

    static let version: UInt8 = 1

    /// `version ‖ height ‖ previousHash ‖ epoch ‖ stateRoot ‖ count ‖ (length ‖ transaction)…`.
    public var encoded: [UInt8] {
        var w = CanonicalWriter(capacity: 128 + transactions.count * 128)
        w.u8(Self.version)
        w.u64(height)
        w.fixed(previousHash)
        w.u64(epoch)
        w.fixed(stateRoot)
        w.count(transactions.count)
        for t in transactions { w.variable(t.encoded) }
        return w.bytes
    }

    /// SHA-256 of the encoding; equal to the consensus value id of the block's bytes.
    public var hash: [UInt8] { Array(SHA256.hash(data: encoded)) }

    public init(decoding bytes: [UInt8]) throws(ShardError) {
        var r = CanonicalReader(bytes)
        let version = try r.u8()
        guard version == Self.version else { throw .unknownVersion(version) }
        height = try r.u64()
        previousHash = try r.hash32()
        epoch = try r.u64()
        stateRoot = try r.hash32()
        let n = try r.count(field: "transactions", max: ShardLimits.transactionsPerBlockMax, minimumElementBytes: 5)
        var txs: [ShardTransaction] = []
        txs.reserveCapacity(n)
        for _ in 0..<n {
            let bytes = try r.variable(field: "transaction", max: bytes.count)
            txs.append(try ShardTransaction(decoding: bytes))
        }
        transactions = txs
        try r.finish()
    }
}
