import Secp256k1

/// An in-process network for MPC sessions, for tests, the `mpc simulate` command and benchmarks.
///
/// Broadcasts go through `OrderedBroadcast`, a single FIFO queue that hands every broadcast to every
/// participant in one global order (the reliable-broadcast guarantee the node gets from consensus); direct
/// messages go to one participant. Time is virtual: when a round stalls (someone is silent), the clock jumps
/// by the round timeout. Byzantine behaviour is injected by rewriting a participant's outgoing messages.
/// Pure and deterministic, with no dependency on the MPC sessions' internals, so it can move to
/// SimulationSupport later.
public struct LocalNetwork<Session: MPCSession> {
    /// Rewrites a participant's outgoing message into what it actually sends (nothing, a corrupted copy, two
    /// conflicting copies, …).
    public typealias Behaviour = (MPCMessage) -> [MPCMessage]

    public var sessions: [Session]
    public private(set) var now: Duration = .zero
    public let roundTimeout: Duration
    /// Participant slot of a direct message's recipient (nil drops it).
    private let route: (MPCMessage) -> Int?
    /// Byzantine rewrites, by participant slot.
    public var behaviours: [Int: Behaviour] = [:]
    /// Messages a session refused, with the reason (malformed, stale, duplicate …).
    public private(set) var refusals: [(slot: Int, error: MPCError)] = []
    private var broadcast = OrderedBroadcast()
    private var direct: [(slot: Int, message: MPCMessage)] = []

    /// `route` maps a direct message to the participant slot it is for; by default recipient i is slot i − 1.
    public init(sessions: [Session], roundTimeout: Duration, route: ((MPCMessage) -> Int?)? = nil) {
        self.sessions = sessions
        self.roundTimeout = roundTimeout
        self.route = route ?? { $0.recipient.map { $0 - 1 } }
    }

    /// Runs every session to completion (or failure), at most `stepsMax` delivery rounds.
    public mutating func run(stepsMax: Int = 64) {
        for slot in sessions.indices { send(sessions[slot].start(now: now), from: slot) }
        var steps = 0
        while steps < stepsMax, sessions.contains(where: { $0.status == .running }) {
            steps += 1
            deliverAll()
            var sent = false
            for slot in sessions.indices {
                let out = sessions[slot].tick(now: now)
                sent = sent || !out.isEmpty
                send(out, from: slot)
            }
            if !sent && !hasPendingMessages {
                // Nobody could close their round: let the round timers fire.
                now += roundTimeout
                for slot in sessions.indices { send(sessions[slot].tick(now: now), from: slot) }
            }
        }
    }

    private var hasPendingMessages: Bool { broadcast.hasPending || !direct.isEmpty }

    private mutating func send(_ messages: [MPCMessage], from slot: Int) {
        for original in messages {
            for message in behaviours[slot].map({ $0(original) }) ?? [original] {
                if message.isBroadcast {
                    broadcast.broadcast(message)
                } else if let target = route(message) {
                    direct.append((target, message))
                }
            }
        }
    }

    private mutating func deliverAll() {
        for (slot, message) in direct where sessions.indices.contains(slot) {
            deliver(message, to: slot)
        }
        direct.removeAll()
        while let message = broadcast.nextDelivery() {
            for slot in sessions.indices { deliver(message, to: slot) }
        }
    }

    private mutating func deliver(_ message: MPCMessage, to slot: Int) {
        do {
            try sessions[slot].handle(message, now: now)
        } catch {
            refusals.append((slot, error))
        }
    }
}

/// The reliable broadcast of the simulation: one queue, one order for everyone.
public struct OrderedBroadcast: ReliableBroadcast {
    private var queue: [MPCMessage] = []
    private var head = 0

    public init() {}

    public mutating func broadcast(_ message: MPCMessage) { queue.append(message) }

    public mutating func nextDelivery() -> MPCMessage? {
        guard head < queue.count else {
            queue.removeAll(keepingCapacity: true)
            head = 0
            return nil
        }
        head += 1
        return queue[head - 1]
    }

    public var hasPending: Bool { head < queue.count }
}
