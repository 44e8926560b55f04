import Shard

/// What the RPC server needs from a node, and nothing more: hand a transaction to the mempool, and read committed
/// state. The server never drives consensus or MPC, so a fake of this protocol is enough to test every RPC path, and
/// the server cannot store anything except through `submitTransaction`.
public protocol ShardService: Sendable {
    /// Checks `transaction` against the current state and queues it for a block; returns its mempool id
    /// (`ShardTransaction.id`). Nothing is queued when it throws.
    func submitTransaction(_ transaction: ShardTransaction) async throws(SubmissionError) -> [UInt8]
    /// The committed mint with this nHash (nil if no block has committed it).
    func mintStatus(nHash: [UInt8]) async -> MintStatus?
    /// A summary for `darknode_status`.
    func status() async -> ServiceStatus
}

/// Why the node did not queue a submitted transaction (the node's mempool refusals, in the API's own terms so that
/// this module does not depend on the node).
public enum SubmissionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The same transaction is already waiting.
    case duplicate
    /// The mempool holds its maximum; retry later.
    case full(transactions: Int, bytes: Int)
    case tooLarge(bytes: Int, limit: Int)
    /// The shard's rules refuse it against the current state.
    case invalid(ShardError)

    public var description: String {
        switch self {
        case .duplicate: "already in the mempool"
        case .full(let t, let b): "mempool full (\(t) transactions, \(b) bytes)"
        case .tooLarge(let b, let l): "transaction of \(b) bytes exceeds \(l)"
        case .invalid(let e): "refused by the shard's rules: \(e)"
        }
    }
}

/// A committed mint as `ren_queryTx` reports it.
public struct MintStatus: Sendable, Equatable {
    public var nHash: [UInt8]
    public var pHash: [UInt8]
    public var sHash: [UInt8]
    /// The 20-byte EVM recipient.
    public var to: [UInt8]
    /// Satoshis: the deposit output's value.
    public var amount: UInt64
    /// The mint digest the shard key signs (RenVM's sighash).
    public var sigHash: [UInt8]
    /// The shard height whose block committed the mint.
    public var committedAt: UInt64
    /// Consensus has given the request its presignature (signing may proceed).
    public var presignatureAssigned: Bool
    /// The 65-byte r‖s‖v mint authorisation (v = 27 or 28) once the shard has signed.
    public var authorisation: [UInt8]?

    public init(nHash: [UInt8], pHash: [UInt8], sHash: [UInt8], to: [UInt8], amount: UInt64, sigHash: [UInt8],
                committedAt: UInt64, presignatureAssigned: Bool, authorisation: [UInt8]?) {
        self.nHash = nHash
        self.pHash = pHash
        self.sHash = sHash
        self.to = to
        self.amount = amount
        self.sigHash = sigHash
        self.committedAt = committedAt
        self.presignatureAssigned = presignatureAssigned
        self.authorisation = authorisation
    }

    /// Reads a mint's status out of shard state: the signing request keyed by its nHash.
    public init?(state: ShardState, nHash: [UInt8]) {
        guard let request = state.request(id: nHash), case .mint(let record) = request.purpose else { return nil }
        self.init(nHash: record.nHash, pHash: record.pHash, sHash: record.sHash, to: record.to, amount: record.amount,
                  sigHash: request.digest, committedAt: request.committedAt, presignatureAssigned: request.presignature != nil,
                  authorisation: state.shardKey.flatMap { request.mintAuthorisation(shardKey: $0) })
    }
}

/// The node at a glance.
public struct ServiceStatus: Sendable, Equatable {
    public var height: UInt64
    /// The compressed shard key, once key generation is committed.
    public var shardKey: [UInt8]?
    public var bitcoinTipHeight: Int
    public var mempoolTransactions: Int

    public init(height: UInt64, shardKey: [UInt8]?, bitcoinTipHeight: Int, mempoolTransactions: Int) {
        self.height = height
        self.shardKey = shardKey
        self.bitcoinTipHeight = bitcoinTipHeight
        self.mempoolTransactions = mempoolTransactions
    }
}
