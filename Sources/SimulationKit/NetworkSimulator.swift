/// How the simulated network misbehaves. Every probability is a `Ratio`.
public struct NetworkFaults: Sendable, Equatable, CustomStringConvertible {
    /// One-way delay, drawn uniformly per message copy.
    public var delayMin: Duration
    public var delayMax: Duration
    /// A message copy is lost.
    public var drop: Ratio
    /// A message is delivered twice (each copy with its own delay).
    public var duplicate: Ratio
    /// A message copy is held back by up to `reorderDelayMax` more, so later messages overtake it.
    public var reorder: Ratio
    public var reorderDelayMax: Duration

    public init(delayMin: Duration, delayMax: Duration, drop: Ratio = .never, duplicate: Ratio = .never,
                reorder: Ratio = .never, reorderDelayMax: Duration = .zero) {
        precondition(delayMin <= delayMax)
        self.delayMin = delayMin
        self.delayMax = delayMax
        self.drop = drop
        self.duplicate = duplicate
        self.reorder = reorder
        self.reorderDelayMax = reorderDelayMax
    }

    /// A healthy LAN: 1–10 ms, nothing lost.
    public static let calm = NetworkFaults(delayMin: .milliseconds(1), delayMax: .milliseconds(10))

    public var description: String {
        "delay \(delayMin)…\(delayMax) drop \(drop) dup \(duplicate) reorder \(reorder) (+\(reorderDelayMax))"
    }
}

/// What the simulator hands the driver next.
public enum SimulationEvent<Message, Timer> {
    case message(from: Int, to: Int, Message)
    case timer(node: Int, Timer)
}

/// Counters for reports and benchmarks.
public struct NetworkStatistics: Sendable, Equatable {
    public var sent = 0
    public var delivered = 0
    public var dropped = 0
    public var duplicated = 0
    public var blockedByPartition = 0
    public var lostToCrash = 0
}

/// A seeded, virtual-time network of `nodeCount` nodes (TigerBeetle's packet simulator, reduced): per-message
/// delay, loss, duplication and reordering; partitions that can heal; nodes that crash (losing their timers and
/// incoming messages) and restart. Generic over the message and timer types, so any protocol driver can use it.
///
/// Determinism: all randomness comes from the one `DeterministicRNG`, and simultaneous events leave in insertion
/// order, so a run is a function of the seed and the driver's calls.
public struct NetworkSimulator<Message, Timer> {
    private enum Pending {
        case message(from: Int, to: Int, Message)
        case timer(node: Int, incarnation: UInt32, Timer)
    }

    public let nodeCount: Int
    public var faults: NetworkFaults
    public private(set) var now: VirtualInstant = .zero
    public private(set) var statistics = NetworkStatistics()
    public var rng: DeterministicRNG
    private var queue = EventQueue<Pending>()
    /// Partition group of each node; two nodes can talk only within one group.
    private var group: [Int]
    private var up: [Bool]
    private var incarnation: [UInt32]

    public init(nodeCount: Int, faults: NetworkFaults, rng: DeterministicRNG) {
        precondition(nodeCount > 0)
        self.nodeCount = nodeCount
        self.faults = faults
        self.rng = rng
        group = Array(repeating: 0, count: nodeCount)
        up = Array(repeating: true, count: nodeCount)
        incarnation = Array(repeating: 0, count: nodeCount)
    }

    public var pendingEvents: Int { queue.count }
    /// When the next pending event (live or cancelled) is due: a driver that changes the network at a fixed time
    /// does so before any event at or after that time is handed out.
    public var nextEventTime: VirtualInstant? { queue.earliestTime.map { VirtualInstant(nanoseconds: $0) } }
    public func isUp(_ node: Int) -> Bool { up[node] }
    public func canReach(from: Int, to: Int) -> Bool { group[from] == group[to] }
    public var isPartitioned: Bool { Set(group).count > 1 }

    /// Sends one message; faults apply per copy. Partitions are checked when the message leaves.
    public mutating func send(_ message: Message, from: Int, to: Int) {
        statistics.sent += 1
        guard canReach(from: from, to: to) else {
            statistics.blockedByPartition += 1
            return
        }
        let copies = rng.chance(faults.duplicate) ? 2 : 1
        if copies == 2 { statistics.duplicated += 1 }
        for _ in 0..<copies {
            if rng.chance(faults.drop) {
                statistics.dropped += 1
                continue
            }
            var delay = rng.duration(in: faults.delayMin...faults.delayMax)
            if rng.chance(faults.reorder) { delay += rng.duration(in: .zero...faults.reorderDelayMax) }
            queue.push(.message(from: from, to: to, message), at: (now + delay).nanoseconds)
        }
    }

    /// Sends to every node but the sender.
    public mutating func broadcast(_ message: Message, from: Int) {
        for to in 0..<nodeCount where to != from { send(message, from: from, to: to) }
    }

    /// Fires `timer` at `node` after `delay`, unless the node crashes first.
    public mutating func setTimer(_ timer: Timer, node: Int, after delay: Duration) {
        queue.push(.timer(node: node, incarnation: incarnation[node], timer), at: (now + delay).nanoseconds)
    }

    /// Splits the nodes: `groups[i]` is node i's side. Messages already in flight still arrive.
    public mutating func partition(_ groups: [Int]) {
        precondition(groups.count == nodeCount)
        group = groups
    }

    public mutating func heal() { group = Array(repeating: 0, count: nodeCount) }

    /// The node stops: its timers are cancelled and messages to it are lost until it restarts.
    public mutating func crash(_ node: Int) {
        up[node] = false
        incarnation[node] &+= 1
    }

    public mutating func restart(_ node: Int) { up[node] = true }

    /// Advances the clock to the next live event and returns it; nil when nothing is pending.
    public mutating func next() -> SimulationEvent<Message, Timer>? {
        while let (time, pending) = queue.pop() {
            now = VirtualInstant(nanoseconds: max(time, now.nanoseconds))
            switch pending {
            case .message(let from, let to, let m):
                guard up[to] else {
                    statistics.lostToCrash += 1
                    continue
                }
                statistics.delivered += 1
                return .message(from: from, to: to, m)
            case .timer(let node, let inc, let t):
                guard up[node], inc == incarnation[node] else { continue }
                return .timer(node: node, t)
            }
        }
        return nil
    }
}
