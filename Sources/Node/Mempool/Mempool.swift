import Shard

/// Why a transaction was not taken into the mempool.
public enum MempoolError: Error, Equatable, Sendable, CustomStringConvertible {
    case duplicate
    case full(transactions: Int, bytes: Int)
    case tooLarge(bytes: Int, limit: Int)
    /// The shard's rules refuse it against the current state.
    case invalid(ShardError)

    public var description: String {
        switch self {
        case .duplicate: "already in the mempool"
        case .full(let t, let b): "mempool full (\(t) transactions, \(b) bytes)"
        case .tooLarge(let b, let l): "transaction of \(b) bytes exceeds \(l)"
        case .invalid(let e): "invalid: \(e)"
        }
    }
}

/// Transactions waiting for a block, in arrival order, bounded in count and bytes so that no client or peer can
/// make a node hold more. A proposer takes candidates in order; committed and refused ones leave.
public struct Mempool: Sendable {
    public struct Limits: Sendable {
        public var transactionsMax = 20_000
        public var bytesMax = 64 << 20
        public var transactionBytesMax = 256 << 10
        public init() {}
    }

    public let limits: Limits
    private var order: [[UInt8]] = []
    private var head = 0
    private var byID: [[UInt8]: (transaction: ShardTransaction, bytes: Int)] = [:]
    public private(set) var bytes = 0

    public init(limits: Limits = Limits()) { self.limits = limits }

    public var count: Int { byID.count }

    public func contains(_ id: [UInt8]) -> Bool { byID[id] != nil }

    /// Adds `transaction` (already checked against the state by the caller); returns its id.
    @discardableResult
    public mutating func add(_ transaction: ShardTransaction) throws(MempoolError) -> [UInt8] {
        let encoded = transaction.encoded
        guard encoded.count <= limits.transactionBytesMax else { throw .tooLarge(bytes: encoded.count, limit: limits.transactionBytesMax) }
        let id = transaction.id
        guard byID[id] == nil else { throw .duplicate }
        guard byID.count < limits.transactionsMax, bytes + encoded.count <= limits.bytesMax else { throw .full(transactions: byID.count, bytes: bytes) }
        byID[id] = (transaction, encoded.count)
        order.append(id)
        bytes += encoded.count
        return id
    }

    /// Up to `limit` waiting transactions, oldest first.
    public func candidates(limit: Int = ShardLimits.transactionsPerBlockMax) -> [ShardTransaction] {
        var out: [ShardTransaction] = []
        var i = head
        while i < order.count, out.count < limit {
            if let entry = byID[order[i]] { out.append(entry.transaction) }
            i += 1
        }
        return out
    }

    public mutating func remove(_ ids: some Sequence<[UInt8]>) {
        for id in ids {
            if let entry = byID.removeValue(forKey: id) { bytes -= entry.bytes }
        }
        // Skip removed ids at the front; compact when the dead prefix dominates.
        while head < order.count, byID[order[head]] == nil { head += 1 }
        if head > 1_024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        if byID.isEmpty {
            order.removeAll(keepingCapacity: true)
            head = 0
        }
    }
}
