import Consensus
import SimulationKit

/// A broken invariant, with enough context to read the trace.
public enum SimulationViolation: Equatable, Sendable, CustomStringConvertible {
    /// Two honest nodes decided different values at one height.
    case agreement(height: Height, node: Int, value: String, earlier: String)
    /// An honest node decided a value that fails the validity predicate.
    case validity(height: Height, node: Int)
    /// An honest node signed two different messages for one (height, round, step); `seenIn` is where the second
    /// one was caught (its WAL append, a broadcast, or a direct send).
    case doubleSign(node: Int, first: String, second: String, seenIn: SignatureOutlet)
    /// An honest node could not restart: its WAL did not recover.
    case walUnrecoverable(node: Int, reason: String)
    /// An honest node was reported for misbehaviour, or reported evidence did not verify.
    case falseEvidence(node: Int, evidence: String)
    /// After the network healed, honest nodes did not decide `heightsAfterHeal` more heights in time.
    case noProgress(healedAt: String, target: Height, heights: [Height])
    /// The run hit `eventsMax`.
    case eventBudgetExhausted

    public var description: String {
        switch self {
        case .agreement(let h, let n, let v, let e): "AGREEMENT violated at h\(h): node \(n) decided \(v), earlier \(e)"
        case .validity(let h, let n): "VALIDITY violated at h\(h) by node \(n)"
        case .doubleSign(let n, let a, let b, let at): "DOUBLE SIGN by honest node \(n) (in its \(at)): \(a) / \(b)"
        case .walUnrecoverable(let n, let reason): "WAL UNRECOVERABLE at node \(n): \(reason)"
        case .falseEvidence(let n, let e): "FALSE EVIDENCE from node \(n): \(e)"
        case .noProgress(let at, let t, let hs): "NO PROGRESS after heal at \(at): target h\(t), heights \(hs)"
        case .eventBudgetExhausted: "EVENT BUDGET exhausted"
        }
    }
}

/// Where an honest node's signature was seen by the double-sign check.
public enum SignatureOutlet: String, Sendable, Equatable {
    case wal
    case broadcast
    case send
}

/// The outcome of one run.
public struct ConsensusSimulationReport: Sendable, CustomStringConvertible {
    public let options: ConsensusSimulationOptions
    public let violations: [SimulationViolation]
    /// Heights decided by every honest node.
    public let decidedHeights: Height
    /// Packets handed to the network (broadcasts count once per recipient).
    public let messagesSent: Int
    public let events: Int
    public let virtualTime: VirtualInstant
    public let evidenceReported: Int
    public let crashes: Int
    public let signatureVerifications: Int
    /// Restarts that found a torn last WAL record (and dropped it).
    public let tornTails: Int
    /// Restarts of rolled-back nodes from an older WAL.
    public let rollbacks: Int
    /// Double signatures by rolled-back nodes counted as faulty: the check saw them, and they are within f.
    public let faultyDoubleSigns: Int
    /// Packets honest replicas refused, by reason (shows which attacks reached which check).
    public let rejections: [ConsensusError: Int]

    /// No violation, and the faults stayed within f (beyond it a clean run promises nothing).
    public var passed: Bool { violations.isEmpty && !options.faultBudgetExceeded }

    public var description: String {
        (passed ? "PASS " : "FAIL ") + options.description
            + " | decided=\(decidedHeights) msgs=\(messagesSent) events=\(events) \(virtualTime) evidence=\(evidenceReported) crashes=\(crashes)"
            + " tornTails=\(tornTails) rollbacks=\(rollbacks) faultyDoubleSigns=\(faultyDoubleSigns)"
            + (options.faultBudgetExceeded ? "\n  FAULT BUDGET exceeded: \(options.faultyCount) faulty > f = \(options.faultsTolerated)" : "")
            + violations.map { "\n  " + $0.description }.joined()
    }
}
