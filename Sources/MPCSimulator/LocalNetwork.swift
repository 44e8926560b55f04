import MPC
import Secp256k1

/// One simulated member's view of time and of the broadcast.
public struct NodeClock: Sendable, Equatable {
    /// When the member starts the session, in global time (it learned of it later than others).
    public var startDelay: Duration
    /// How fast its clock runs, in parts per million too fast (negative: too slow).
    public var driftPPM: Int
    /// How long after being ordered a broadcast reaches it (a slow link or a busy node).
    public var lag: Duration

    public init(startDelay: Duration = .zero, driftPPM: Int = 0, lag: Duration = .zero) {
        self.startDelay = startDelay
        self.driftPPM = driftPPM
        self.lag = lag
    }

    /// The member's local reading at global time `now` (zero when it starts).
    func local(at now: Duration) -> Duration {
        let elapsed = now - startDelay
        return elapsed + elapsed * driftPPM / 1_000_000
    }
}

/// An in-process network for MPC sessions, for tests, the `mpc simulate` command and benchmarks.
///
/// Every message goes through `OrderedBroadcast`, one agreed log that each member reads in order (the
/// reliable-broadcast guarantee the node gets from consensus), possibly late (`NodeClock.lag`). Each member has
/// its own clock (`NodeClock`: start delay, drift); global time advances in steps of a fiftieth of the round
/// timeout while nobody can make progress. Byzantine behaviour is injected by rewriting a member's outgoing
/// messages. Pure and deterministic.
public struct LocalNetwork<Session: MPCSession> {
    /// Rewrites a participant's outgoing message into what it actually sends (nothing, a corrupted copy, two
    /// conflicting copies, …).
    public typealias Behaviour = (MPCMessage) -> [MPCMessage]

    public var sessions: [Session]
    /// Global (virtual) time.
    public private(set) var now: Duration = .zero
    public let roundTimeout: Duration
    /// Byzantine rewrites, by participant slot.
    public var behaviours: [Int: Behaviour] = [:]
    /// Per-member clocks and lags, by participant slot (default: all equal, no lag).
    public var clocks: [Int: NodeClock] = [:]
    /// Messages a session refused, with the reason (malformed, stale, duplicate …).
    public private(set) var refusals: [(slot: Int, error: MPCError)] = []
    private var broadcast = OrderedBroadcast()

    public init(sessions: [Session], roundTimeout: Duration) {
        self.sessions = sessions
        self.roundTimeout = roundTimeout
    }

    /// Whether messages travel as bytes: encoded once by the sender (`MPCWire.encode`), decoded and validated by
    /// every reader (`MPCWire.decode`), as in a node. On by default.
    public var usesWireFormat = true

    /// Everything that was broadcast, in the agreed order (what a party would replay).
    public var transcript: [MPCMessage] { broadcast.log.map { $0.message } }

    /// The same, as the bytes that were sent (empty entries when `usesWireFormat` is off).
    public var wireTranscript: [[UInt8]] { broadcast.log.map { $0.bytes ?? [] } }

    /// Runs every session until none is running, at most `stepsMax` time steps.
    public mutating func run(stepsMax: Int = 20_000) {
        var started = [Bool](repeating: false, count: sessions.count)
        let step = roundTimeout / 50
        for _ in 0..<stepsMax {
            for slot in sessions.indices where !started[slot] && now >= clock(slot).startDelay {
                started[slot] = true
                send(sessions[slot].start(now: clock(slot).local(at: now)), from: slot)
            }
            var progressed = true
            while progressed {
                progressed = false
                for slot in sessions.indices where started[slot] {
                    let local = clock(slot).local(at: now)
                    while let entry = broadcast.nextEntry(to: slot, orderedBy: now - clock(slot).lag) {
                        deliver(entry.message, bytes: entry.bytes, to: slot, at: local)
                    }
                    let out = sessions[slot].tick(now: local)
                    if !out.isEmpty { progressed = true }
                    send(out, from: slot)
                }
            }
            if started.allSatisfy({ $0 }) && !sessions.contains(where: { $0.status == .running }) { return }
            now += step
        }
    }

    private func clock(_ slot: Int) -> NodeClock { clocks[slot] ?? NodeClock() }

    private mutating func send(_ messages: [MPCMessage], from slot: Int) {
        for original in messages {
            for message in behaviours[slot].map({ $0(original) }) ?? [original] {
                broadcast.submit(message, bytes: usesWireFormat ? MPCWire.encode(message) : nil, at: now)
            }
        }
    }

    private mutating func deliver(_ message: MPCMessage, bytes: [UInt8]?, to slot: Int, at local: Duration) {
        do throws(MPCError) {
            var received = message
            if let bytes { received = try MPCWire.decode(bytes) }
            try sessions[slot].handle(received, now: local)
        } catch {
            refusals.append((slot, error))
        }
    }
}

/// The reliable broadcast of the simulation: one log, one order, a read position per reader.
public struct OrderedBroadcast: ReliableBroadcast {
    struct Entry {
        let at: Duration
        let message: MPCMessage
        let bytes: [UInt8]?
    }

    private(set) var log: [Entry] = []
    private var cursors: [Int: Int] = [:]

    public init() {}

    public mutating func submit(_ message: MPCMessage) { submit(message, bytes: nil, at: .zero) }

    /// Appends a message (and its encoding, if it travels as bytes) ordered at global time `at`.
    mutating func submit(_ message: MPCMessage, bytes: [UInt8]?, at time: Duration) {
        log.append(Entry(at: time, message: message, bytes: bytes))
    }

    public mutating func nextDelivery(to reader: Int) -> MPCMessage? {
        nextEntry(to: reader, orderedBy: .seconds(Int64.max / 2))?.message
    }

    /// The reader's next entry, if it was ordered no later than `time` (lagging readers see a prefix).
    mutating func nextEntry(to reader: Int, orderedBy time: Duration) -> Entry? {
        let position = cursors[reader, default: 0]
        guard position < log.count, log[position].at <= time else { return nil }
        cursors[reader] = position + 1
        return log[position]
    }
}
