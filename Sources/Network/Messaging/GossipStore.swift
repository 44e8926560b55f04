/// Gossip bookkeeping: content we hold (bounded, oldest evicted first) and pulls we are waiting for.
///
/// Content arriving unasked is dropped: a peer can only make us store what we pulled, which bounds the memory
/// an attested-but-misbehaving peer can consume. Pulls are bounded per peer and expire, and a hash offered by
/// several peers is retried from the next one when the first does not deliver: a peer that pushes hashes it never
/// delivers cannot fill the table, nor hold back content others offer.
struct GossipStore: Sendable {
    struct Item: Sendable {
        let content: [UInt8]
        let topic: String
        let sessionID: [UInt8]
        let author: [UInt8]
    }

    private(set) var items: [[UInt8]: Item] = [:]
    private var order: [[UInt8]] = []
    private var orderStart = 0
    /// Pulls we wait for: whom we asked, until when, and who else pushed the hash (to retry from them).
    private(set) var pending: [[UInt8]: Pull] = [:]
    private var pendingByPeer: [PeerID: Int] = [:]
    let capacity: Int
    let pendingCapacity: Int
    let pendingPerPeer: Int
    /// Other pushers remembered per pending hash.
    static let alternatesMax = 4

    struct Pull: Sendable {
        var peer: PeerID
        var deadline: ContinuousClock.Instant
        var alternates: [PeerID]
    }

    init(capacity: Int, pendingCapacity: Int, pendingPerPeer: Int) {
        self.capacity = capacity
        self.pendingCapacity = pendingCapacity
        self.pendingPerPeer = pendingPerPeer
    }

    func has(_ hash: [UInt8]) -> Bool { items[hash] != nil }
    func item(_ hash: [UInt8]) -> Item? { items[hash] }
    func isPending(_ hash: [UInt8]) -> Bool { pending[hash] != nil }
    var pendingCount: Int { pending.count }

    enum PushOutcome: Equatable {
        /// Pull it from the pusher now.
        case pull
        /// Already pending (the pusher is remembered as a fallback) or held.
        case known
        /// The pusher's quota of outstanding pulls, or the table, is full.
        case overQuota
    }

    /// Records that `peer` offered `hash`: the first offer is pulled (within the peer's quota), later ones are
    /// kept as fallbacks in case the first never delivers.
    mutating func offered(_ hash: [UInt8], by peer: PeerID, now: ContinuousClock.Instant, timeout: Duration)
        -> PushOutcome
    {
        if items[hash] != nil { return .known }
        if var pull = pending[hash] {
            if pull.peer != peer, !pull.alternates.contains(peer), pull.alternates.count < Self.alternatesMax {
                pull.alternates.append(peer)
                pending[hash] = pull
            }
            return .known
        }
        guard pending.count < pendingCapacity, pendingByPeer[peer, default: 0] < pendingPerPeer else { return .overQuota }
        pending[hash] = Pull(peer: peer, deadline: now + timeout, alternates: [])
        pendingByPeer[peer, default: 0] += 1
        return .pull
    }

    /// Pulls whose deadline passed move to their next pusher (returned, to be pulled from) or are forgotten.
    /// Returned in hash order, not the table's (seeded per process), so the same inputs give the same actions.
    mutating func expire(now: ContinuousClock.Instant, timeout: Duration) -> [(hash: [UInt8], peer: PeerID)] {
        let late = pending.filter { $0.value.deadline <= now }.map(\.key).sorted { $0.lexicographicallyPrecedes($1) }
        return late.compactMap { reassign($0, now: now, timeout: timeout) }
    }

    /// Moves pulls addressed to a peer that went away to their next pusher (returned) or forgets them.
    mutating func dropPending(from peer: PeerID, now: ContinuousClock.Instant, timeout: Duration)
        -> [(hash: [UInt8], peer: PeerID)]
    {
        let theirs = pending.filter { $0.value.peer == peer }.map(\.key).sorted { $0.lexicographicallyPrecedes($1) }
        for hash in pending.keys { pending[hash]!.alternates.removeAll { $0 == peer } }
        return theirs.compactMap { reassign($0, now: now, timeout: timeout) }
    }

    private mutating func reassign(_ hash: [UInt8], now: ContinuousClock.Instant, timeout: Duration)
        -> (hash: [UInt8], peer: PeerID)?
    {
        guard var pull = pending.removeValue(forKey: hash) else { return nil }
        release(pull.peer)
        while !pull.alternates.isEmpty {
            let next = pull.alternates.removeFirst()
            guard pendingByPeer[next, default: 0] < pendingPerPeer else { continue }
            pull.peer = next
            pull.deadline = now + timeout
            pending[hash] = pull
            pendingByPeer[next, default: 0] += 1
            return (hash, next)
        }
        return nil
    }

    private mutating func release(_ peer: PeerID) {
        let left = pendingByPeer[peer, default: 1] - 1
        pendingByPeer[peer] = left > 0 ? left : nil
    }

    /// Stores content; returns false when it was already held.
    @discardableResult
    mutating func store(_ hash: [UInt8], _ item: Item) -> Bool {
        if let pull = pending.removeValue(forKey: hash) { release(pull.peer) }
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
}
