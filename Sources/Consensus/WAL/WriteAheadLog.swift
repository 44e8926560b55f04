/// What a process must have on disk before its own messages leave, so that a crash and restart can neither sign two
/// different messages for one (height, round, step) nor forget a lock (CometBFT `spec/consensus/signing.md`,
/// `wal.md`).
///
/// The driver appends every `.persist` entry, in order, and makes it durable (fsync) before it carries out any
/// effect that follows it in the same batch. A restarted process is built with the entries of its current height
/// (`ConsensusProcess(restoring:)`): it re-sends the messages it signed instead of signing new ones for the same
/// slot, and keeps its lock. Messages received from others are not logged: peers resend them.
public enum WALEntry: Hashable, Sendable {
    /// A message this process signed. Durable before it is broadcast.
    case signed(SignedMessage)
    /// lockedValue/lockedRound set at L38–39. Durable before the precommit that follows it.
    case locked(height: Height, RoundValue)
    /// validValue/validRound set at L42–43.
    case valid(height: Height, RoundValue)
    /// The 2f+1 prevotes of one round for one value that justified a lock or a valid value (a polka), written
    /// before the `.valid` entry. A restarted process puts them back in its log: re-proposing its valid value it
    /// must relay them (L28 asks every receiver for that polka), and when some of them came from a Byzantine node
    /// that never resends, the polka is otherwise lost for good and its holder, locked above every other polka,
    /// blocks every later round (found by the simulator, SIM_SEED=768).
    case polka(height: Height, round: Round, prevotes: [SignedMessage])

    public var height: Height {
        switch self {
        case .signed(let m): m.message.height
        case .locked(let h, _), .valid(let h, _), .polka(let h, _, _): h
        }
    }

    public var round: Round {
        switch self {
        case .signed(let m): m.message.round
        case .locked(_, let rv), .valid(_, let rv): rv.round
        case .polka(_, let r, _): r
        }
    }
}

/// Durable storage of WAL entries. The node backs it with the sealed store; simulations use `InMemoryWAL`.
public protocol WriteAheadLog {
    /// Appends and makes durable before returning.
    mutating func append(_ entry: WALEntry)
    /// The entries of one height, in append order.
    func entries(height: Height) -> [WALEntry]
    /// Forgets heights below `height` (called once the application has made the decision durable).
    mutating func discard(below height: Height)
}

/// A WAL that lives in memory: in a simulation it stands for the node's disk and survives simulated crashes.
public struct InMemoryWAL: WriteAheadLog, Sendable {
    private var log: [WALEntry] = []

    public init() {}

    public var count: Int { log.count }

    public mutating func append(_ entry: WALEntry) { log.append(entry) }

    public func entries(height: Height) -> [WALEntry] { log.filter { $0.height == height } }

    public mutating func discard(below height: Height) { log.removeAll { $0.height < height } }
}
