/// Gossip bookkeeping: content we hold (bounded, oldest evicted first) and pulls we are waiting for.
///
/// Content arriving unasked is dropped: a peer can only make us store what we pulled, which bounds the memory
/// an attested-but-misbehaving peer can consume.
struct GossipStore: Sendable {
    struct Item: Sendable {
        let content: [UInt8]
        let topic: String
        let sessionID: [UInt8]
        let author: [UInt8]
    }

    private var items: [[UInt8]: Item] = [:]
    private var order: [[UInt8]] = []
    private var orderStart = 0
    private var pending: [[UInt8]: PeerID] = [:]
    let capacity: Int
    let pendingCapacity: Int

    init(capacity: Int, pendingCapacity: Int) {
        self.capacity = capacity
        self.pendingCapacity = pendingCapacity
    }

    func has(_ hash: [UInt8]) -> Bool { items[hash] != nil }
    func item(_ hash: [UInt8]) -> Item? { items[hash] }
    func isPending(_ hash: [UInt8]) -> Bool { pending[hash] != nil }

    /// Records that we asked `peer` for `hash`; false when already pending or the pending table is full.
    mutating func markPending(_ hash: [UInt8], from peer: PeerID) -> Bool {
        guard pending[hash] == nil, pending.count < pendingCapacity else { return false }
        pending[hash] = peer
        return true
    }

    /// Stores content; returns false when it was already held.
    @discardableResult
    mutating func store(_ hash: [UInt8], _ item: Item) -> Bool {
        pending[hash] = nil
        guard items[hash] == nil else { return false }
        items[hash] = item
        order.append(hash)
        while items.count > capacity, orderStart < order.count {
            items[order[orderStart]] = nil
            orderStart += 1
        }
        if orderStart > 4096, orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
        return true
    }

    /// Forgets pulls addressed to a peer that went away, so the content can be pulled from someone else.
    mutating func dropPending(from peer: PeerID) {
        pending = pending.filter { $0.value != peer }
    }
}
