import Bitcoin
import Consensus
import Crypto
import Secp256k1

/// Everything a shard starts from, fixed for its life (until an epoch transaction changes the committee): who
/// validates, the MPC threshold, which Bitcoin network it watches and from which checkpoint, how deep a deposit
/// must be, the recovery branch every gateway script carries, and which selectors it mints for. Every node of the
/// shard holds the same genesis bytes; their hash is the "previous hash" of block 1.
public struct ShardGenesis: Sendable, Equatable {
    public let chainID: String
    public let epoch: UInt64
    /// The first committee's identity keys (consensus validators and MPC parties, in this order).
    public let committee: [PublicKey]
    /// MPC threshold t: t + 1 shares sign, t reveal nothing.
    public let threshold: Int
    public let bitcoinNetwork: Bitcoin.Network
    public let checkpoint: ChainCheckpoint
    /// Blocks, the deposit's own included, before a deposit may be minted.
    public let confirmationsRequired: Int
    public let recovery: RecoveryPolicy
    /// Selectors served, e.g. "BTC/toEthereum"; mints name one by its sHash.
    public let selectors: [String]
    /// Bounds on the fee rate a proposer may choose for a sweep, in sat/vB.
    public let sweepFeeRateMin: UInt64
    public let sweepFeeRateMax: UInt64

    public init(chainID: String, epoch: UInt64 = 0, committee: [PublicKey], threshold: Int, bitcoinNetwork: Bitcoin.Network,
                checkpoint: ChainCheckpoint, confirmationsRequired: Int, recovery: RecoveryPolicy, selectors: [String],
                sweepFeeRateMin: UInt64 = 1, sweepFeeRateMax: UInt64 = 1_000) throws(ShardError) {
        guard !chainID.isEmpty, chainID.utf8.count <= ShardLimits.nameBytesMax else { throw .malformed("chain id must be 1…\(ShardLimits.nameBytesMax) bytes") }
        guard (1...ShardLimits.committeeMax).contains(committee.count) else {
            throw .oversize(field: "committee", count: committee.count, limit: ShardLimits.committeeMax)
        }
        guard Set(committee.map(\.compressed)).count == committee.count else { throw .malformed("committee lists a key twice") }
        // n = 3t + 1 with t ≥ 1: consensus tolerates t faulty members, and the MPC module requires exactly this size
        // (a larger n would let two disjoint signer sets each finish a signature with one nonce; docs/mpc.md). It also
        // rules out a one-member committee, whose consensus process would decide height after height in one step.
        guard threshold >= 1, 3 * threshold + 1 == committee.count else {
            throw .malformed("a committee of \(committee.count) with threshold \(threshold): need n = 3t + 1 with t ≥ 1 (4, 7, 10, …)")
        }
        guard (1...ShardLimits.headerWindow).contains(confirmationsRequired) else {
            throw .malformed("confirmations must be 1…\(ShardLimits.headerWindow)")
        }
        guard !selectors.isEmpty, selectors.count <= ShardLimits.selectorsMax,
              selectors.allSatisfy({ !$0.isEmpty && $0.utf8.count <= ShardLimits.nameBytesMax }) else {
            throw .malformed("selectors: 1…\(ShardLimits.selectorsMax) names of 1…\(ShardLimits.nameBytesMax) bytes")
        }
        guard 1 <= sweepFeeRateMin, sweepFeeRateMin <= sweepFeeRateMax, sweepFeeRateMax <= 100_000 else {
            throw .malformed("sweep fee-rate bounds \(sweepFeeRateMin)…\(sweepFeeRateMax)")
        }
        self.chainID = chainID
        self.epoch = epoch
        self.committee = committee
        self.threshold = threshold
        self.bitcoinNetwork = bitcoinNetwork
        self.checkpoint = checkpoint
        self.confirmationsRequired = confirmationsRequired
        self.recovery = recovery
        self.selectors = selectors
        self.sweepFeeRateMin = sweepFeeRateMin
        self.sweepFeeRateMax = sweepFeeRateMax
    }

    public var chainParameters: ChainParameters { .of(bitcoinNetwork) }

    /// The consensus validator set (equal weights).
    public func validatorSet() throws(ShardError) -> ValidatorSet {
        do { return try ValidatorSet(keys: committee) } catch { throw .malformed("committee is not a valid validator set: \(error)") }
    }

    /// sHash of every served selector.
    public var servedSHashes: Set<[UInt8]> { Set(selectors.map { RenVMHashes.sHash(selector: $0) }) }

    public static func == (a: ShardGenesis, b: ShardGenesis) -> Bool { a.encoded == b.encoded }

    // MARK: Encoding

    static let version: UInt8 = 1

    /// `version ‖ chainID ‖ epoch ‖ committee ‖ threshold ‖ network ‖ checkpoint ‖ confirmations ‖ recovery ‖
    /// selectors ‖ fee bounds`.
    public var encoded: [UInt8] {
        var w = CanonicalWriter()
        w.u8(Self.version)
        w.string(chainID)
        w.u64(epoch)
        w.count(committee.count)
        for k in committee { w.publicKey(k) }
        w.u32(UInt32(threshold))
        w.u8(Self.networkCode(bitcoinNetwork))
        w.header(checkpoint.header)
        w.u64(UInt64(checkpoint.height))
        w.u32(checkpoint.periodStartTime)
        w.count(checkpoint.recentTimes.count)
        for t in checkpoint.recentTimes { w.u32(t) }
        w.uint256(checkpoint.chainWork)
        w.u32(checkpoint.lastNormalBits)
        w.u32(UInt32(confirmationsRequired))
        w.u32(UInt32(recovery.delayBlocks))
        w.u32(UInt32(recovery.threshold))
        w.count(recovery.keys.count)
        for k in recovery.keys { w.publicKey(k) }
        w.count(selectors.count)
        for s in selectors { w.string(s) }
        w.u64(sweepFeeRateMin)
        w.u64(sweepFeeRateMax)
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(ShardError) {
        var r = CanonicalReader(bytes)
        let version = try r.u8()
        guard version == Self.version else { throw .unknownVersion(version) }
        let chainID = try r.string(field: "chain id")
        let epoch = try r.u64()
        let n = try r.count(field: "committee", max: ShardLimits.committeeMax, minimumElementBytes: 33)
        var committee: [PublicKey] = []
        for _ in 0..<n { committee.append(try r.publicKey()) }
        let threshold = Int(try r.u32())
        let network = try Self.network(code: try r.u8())
        let header = try r.header()
        let height = try r.u64()
        guard height <= UInt64(Int32.max) else { throw .malformed("checkpoint height \(height)") }
        let periodStart = try r.u32()
        let timesCount = try r.count(field: "checkpoint times", max: 11, minimumElementBytes: 4)
        var times: [UInt32] = []
        for _ in 0..<timesCount { times.append(try r.u32()) }
        let work = try r.uint256()
        let lastNormal = try r.u32()
        let confirmations = Int(try r.u32())
        let delay = Int(try r.u32())
        let recoveryThreshold = Int(try r.u32())
        let keyCount = try r.count(field: "recovery keys", max: 20, minimumElementBytes: 33)
        var keys: [PublicKey] = []
        for _ in 0..<keyCount { keys.append(try r.publicKey()) }
        let selectorCount = try r.count(field: "selectors", max: ShardLimits.selectorsMax, minimumElementBytes: 4)
        var selectors: [String] = []
        for _ in 0..<selectorCount { selectors.append(try r.string(field: "selector")) }
        let feeMin = try r.u64(), feeMax = try r.u64()
        try r.finish()
        let recovery: RecoveryPolicy
        do { recovery = try RecoveryPolicy(delayBlocks: delay, threshold: recoveryThreshold, keys: keys) } catch { throw .malformed("recovery policy: \(error)") }
        let checkpoint = ChainCheckpoint(header: header, height: Int(height), periodStartTime: periodStart, recentTimes: times,
                                         chainWork: work, lastNormalBits: lastNormal)
        try self.init(chainID: chainID, epoch: epoch, committee: committee, threshold: threshold, bitcoinNetwork: network,
                      checkpoint: checkpoint, confirmationsRequired: confirmations, recovery: recovery, selectors: selectors,
                      sweepFeeRateMin: feeMin, sweepFeeRateMax: feeMax)
        guard encoded == bytes else { throw .malformed("genesis is not in canonical form") }
    }

    /// SHA-256 of the encoding: block 1's previous hash.
    public var hash: [UInt8] { Array(SHA256.hash(data: encoded)) }

    static func networkCode(_ n: Bitcoin.Network) -> UInt8 {
        switch n {
        case .mainnet: 0
        case .testnet: 1
        case .signet: 2
        case .regtest: 3
        }
    }

    static func network(code: UInt8) throws(ShardError) -> Bitcoin.Network {
        switch code {
        case 0: .mainnet
        case 1: .testnet
        case 2: .signet
        case 3: .regtest
        default: throw .malformed("bitcoin network code \(code)")
        }
    }
}
