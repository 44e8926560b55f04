import Bitcoin
import Consensus
import Crypto
import Secp256k1

/// The shard's replicated state: the same blocks give the same state (and root) on every node. It holds the relayed
/// Bitcoin header window, the coins in custody, every nHash ever minted, the signing requests with their
/// presignature assignments and signatures, committed sweeps, and recorded misbehaviour.
///
/// `apply(_:)` is the only way forward, and it is all-or-nothing: a block with one invalid transaction is refused
/// and the state is left as it was.
public struct ShardState: Sendable {
    public let genesis: ShardGenesis
    /// Height of the last applied block (0 = genesis).
    public internal(set) var height: UInt64
    /// Hash of the last applied block (the genesis hash at height 0).
    public internal(set) var lastBlockHash: [UInt8]
    public internal(set) var epoch: UInt64
    public internal(set) var shardKey: PublicKey?
    /// Relayed headers, oldest first; the last is the tip. At most `ShardLimits.headerWindow`.
    public internal(set) var headers: [RelayedHeader]
    var headerPosition: [[UInt8]: Int]
    var coins: [OutPoint: CustodyCoin]
    var minted: Set<[UInt8]>
    var requests: [[UInt8]: SigningRequest]
    /// Requests without a presignature, in commit order.
    var unassigned: [[UInt8]]
    var pendingCount: Int
    /// Unassigned presignature ids, in registration order.
    var presignaturePool: [[UInt8]]
    /// Every id registered this epoch (assigned or not): a presignature is never assigned twice.
    var presignaturesSeen: Set<[UInt8]>
    /// presignature id → request id, for every assignment whose request is not yet signed.
    var assignments: [[UInt8]: [UInt8]]
    var sweeps: [[UInt8]: SweepRecord]
    var offences: Set<Offence>
    /// Taken MPC broadcast slots with the height that took them, oldest first (expired after
    /// `ShardLimits.mpcSlotRetentionBlocks`), and the same slots as a set for look-up.
    var mpcSlotQueue: [(height: UInt64, slot: [UInt8])]
    var mpcSlots: Set<[UInt8]>
    /// Root of this state, computed after each block.
    public internal(set) var root: [UInt8]
    /// The encoding the root was computed from (the snapshot a node seals), kept so that it is made once per block.
    public internal(set) var encodedAtRoot: [UInt8] = []

    /// The state at height 0.
    public init(genesis: ShardGenesis) {
        self.genesis = genesis
        height = 0
        lastBlockHash = genesis.hash
        epoch = genesis.epoch
        shardKey = nil
        let cp = genesis.checkpoint
        headers = [RelayedHeader(header: cp.header, height: cp.height, chainWork: cp.chainWork,
                                 periodStartTime: cp.periodStartTime, lastNormalBits: cp.lastNormalBits)]
        headerPosition = [cp.header.hash: 0]
        coins = [:]
        minted = []
        requests = [:]
        unassigned = []
        pendingCount = 0
        presignaturePool = []
        presignaturesSeen = []
        assignments = [:]
        sweeps = [:]
        offences = []
        mpcSlotQueue = []
        mpcSlots = []
        root = []
        root = computeRoot()
    }

    // MARK: Queries

    public var bitcoinTip: RelayedHeader { headers[headers.count - 1] }

    /// The relayed header with this hash, if it is in the window.
    public func relayedHeader(hash: [UInt8]) -> RelayedHeader? { headerPosition[hash].map { headers[$0] } }

    public func request(id: [UInt8]) -> SigningRequest? { requests[id] }

    public func isMinted(nHash: [UInt8]) -> Bool { minted.contains(nHash) }

    public func coin(_ outpoint: OutPoint) -> CustodyCoin? { coins[outpoint] }

    /// Spendable custody coins, in the order sweeps must list them.
    public var spendableCoins: [CustodyCoin] { coins.values.filter(\.spendable).sorted { outpointPrecedes($0.outpoint, $1.outpoint) } }

    public var presignaturesAvailable: Int { presignaturePool.count }
    /// Whether this epoch registered the presignature id (assigned or not).
    public func presignatureIsRegistered(_ id: [UInt8]) -> Bool { presignaturesSeen.contains(id) }
    /// Whether a registered presignature may still sign: unassigned in the pool, or assigned to an unsigned request.
    public func presignatureIsLive(_ id: [UInt8]) -> Bool { assignments[id] != nil || presignaturePool.contains(id) }
    public var requestsAwaitingPresignature: Int { unassigned.count }
    /// Requests committed and not yet signed.
    public var pendingRequests: Int { pendingCount }

    /// Assigned, unsigned requests in commit order: what the committee should be signing now.
    public var requestsToSign: [SigningRequest] {
        assignments.values.compactMap { requests[$0] }.sorted {
            $0.committedAt != $1.committedAt ? $0.committedAt < $1.committedAt : $0.id.lexicographicallyPrecedes($1.id)
        }
    }

    public func sweep(txid: [UInt8]) -> SweepRecord? { sweeps[txid] }

    /// The committed sweep that spends `outpoint`, if any.
    public func sweepTxid(spending outpoint: OutPoint) -> [UInt8]? {
        sweeps.values.first { $0.coins.contains { $0.outpoint == outpoint } }?.txid
    }

    public var recordedOffences: Set<Offence> { offences }

    /// The gateway script a deposit for `gHash` must pay (nil before the shard has a key).
    public func gatewayScript(gHash: [UInt8]?) -> GatewayScript? {
        guard let shardKey else { return nil }
        return try? GatewayScript(gHash: gHash, shardKey: shardKey, recovery: genesis.recovery)
    }

    /// Rebuilds the unsigned sweep transaction exactly as `apply` did.
    public func unsignedSweep(txid: [UInt8]) throws(ShardError) -> GatewaySpend {
        guard let record = sweeps[txid] else { throw .unknownRequest }
        let spend = try buildSweep(coins: record.coins, feeRate: record.feeRate)
        guard spend.transaction.txid == txid else { throw .malformed("sweep rebuilds to another transaction") }
        return spend
    }

    /// The signed sweep, once every input's signature is committed.
    public func signedSweep(txid: [UInt8]) throws(ShardError) -> Transaction {
        var spend = try unsignedSweep(txid: txid)
        var signatures: [ECDSASignature] = []
        for i in spend.coins.indices {
            guard let sig = requests[Self.sweepInputRequestID(txid: txid, input: UInt32(i))]?.signature else { throw .unknownRequest }
            signatures.append(sig)
        }
        do { try spend.applyNetworkSignatures(signatures) } catch { throw .sweepRejected(error) }
        return spend.transaction
    }

    /// The id of the request that signs input `input` of sweep `txid`.
    public static func sweepInputRequestID(txid: [UInt8], input: UInt32) -> [UInt8] {
        var h = SHA256()
        h.update(data: Array("darknode/shard/sweep-input/v1".utf8))
        h.update(data: txid)
        withUnsafeBytes(of: input.bigEndian) { h.update(bufferPointer: $0) }
        return Array(h.finalize())
    }

    func buildSweep(coins: [CustodyCoin], feeRate: UInt64) throws(ShardError) -> GatewaySpend {
        guard let shardKey else { throw .noShardKey }
        do {
            let gatewayCoins = try coins.map { c throws(BitcoinError) in
                GatewayCoin(outpoint: c.outpoint, value: c.value, script: try GatewayScript(gHash: c.gHash, shardKey: shardKey, recovery: genesis.recovery))
            }
            let custody = try GatewayScript(gHash: nil, shardKey: shardKey, recovery: genesis.recovery)
            return try GatewaySpend.sweep(coins: gatewayCoins, to: custody, feeRate: FeeRate(satoshisPerVirtualByte: feeRate))
        } catch { throw .sweepRejected(error) }
    }
}
