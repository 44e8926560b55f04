import Consensus
import SimulationKit

/// How a Byzantine node misbehaves. Each keeps following the protocol's timing with an honest process inside and
/// changes only what it sends.
public enum ByzantineBehaviour: String, CaseIterable, Sendable {
    /// Sends nothing.
    case silent
    /// Sends one version of each of its messages to some validators and a conflicting one to the others
    /// (double proposals with different values, prevotes and precommits for a value and for nil).
    case equivocate
    /// Proposes values honest validators reject, and votes for them.
    case invalidValues
    /// Sends its messages plus random bytes, corrupted signatures, truncated and padded copies.
    case garbage
    /// Votes for every value it sees proposed (and nil), in every step: the adversary that helps any quorum form.
    case promiscuous
    /// The attack the lock (L23, L29) exists to stop. In round 0 it locks some and commits one: its proposal and
    /// prevote go to everyone but the next round's proposer, who gets a conflicting proposal (so it stays unlocked
    /// and later proposes a fresh value); its precommit reaches only the lowest-indexed other validator that is not
    /// that proposer (who can decide), the rest get nil. In later rounds it prevotes and precommits every proposal it
    /// sees, at once, and it never helps a lagging peer with a certificate or relays others' messages.
    case lockTrap
    /// Sends its messages, and with each of them a flood aimed at the replica's buffers: votes and out-of-turn
    /// proposals for future heights and random rounds (the future-height queue), precommits far ahead in the
    /// current height (counted for the round skip, never stored), and messages signed by keys outside the set.
    case flood
    /// Signs with keys outside the validator set: proposals and votes for the current height, for the next heights
    /// and beyond the buffered window, and commit certificates for a fresh valid-looking value made of its own
    /// precommit and a quorum's worth of outsiders' (accepting them would break agreement at once). Also its own
    /// votes beyond `Limits.futureHeightsMax` and far-ahead rounds of future heights.
    case forge
}

/// Everything that shapes one run. `swarm(seed:)` derives all of it from the seed (TigerBeetle's VOPR
/// `options_swarm`), and `description` prints it so a failure can be replayed with `SIM_SEED=<seed>`.
public struct ConsensusSimulationOptions: Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var nodeCount: Int
    public var byzantine: [Int: ByzantineBehaviour]
    /// The network during the safety phase; after it the network heals to `NetworkFaults.calm`.
    public var faultyNetwork: NetworkFaults
    public var faultPhase: Duration
    /// Chance per chaos step (every 50–500 ms of the safety phase) that the partition changes.
    public var partitionChange: Ratio
    /// Chance that an honest node crashes at an effect boundary during the safety phase.
    public var crash: Ratio
    public var restartDelay: ClosedRange<Duration>
    /// Heights every honest node must decide after the heal, within `livenessBudget`.
    public var heightsAfterHeal: Height
    public var livenessBudget: Duration
    public var timeouts: TimeoutPolicy
    /// How often replicas gossip (resend while stuck).
    public var tickInterval: Duration
    public var injectedFaults: InjectedFaults
    /// With false, restarts come up with an empty WAL (to show the double-sign check can fail).
    public var walEnabled: Bool
    /// Crash this node exactly at its k-th effect boundary (counted from 0), in addition to random crashes.
    public var crashAtBoundary: (node: Int, boundary: Int)?
    /// A run is cut off after this many events (a livelock is reported, not waited for).
    public var eventsMax: Int
    /// Honest nodes whose host restores an older WAL when they restart (the copy from their previous boot). Such a
    /// node can sign twice (it forgot what it signed), so it counts as faulty: `byzantine.count + rolledBack.count`
    /// must stay within f for the safety checks to be promised (`faultBudgetExceeded` says when it does not).
    public var rolledBack: Set<Int> = []
    /// With false, rolled-back nodes are checked as honest ones (to show the double-sign check sees a rollback).
    public var rollbackCountsAsFaulty = true
    /// Chance that a rolled-back node crashes at an effect boundary during the safety phase (each restart rolls its
    /// WAL back).
    public var rolledBackCrash = Ratio(4, 1_000)
    /// Chance that a crash falling on a WAL append tears it: a random prefix of the record reaches the disk.
    public var tornWrite = Ratio(1, 2)
    /// With false, a node whose WAL ends in a torn record refuses to start (to show that the restart check fails
    /// when recovery does not drop the torn tail).
    public var dropTornTail = true
    /// Partitions at fixed times of the safety phase (`groups[i]` is node i's side), for targeted scenarios; the heal
    /// ends them like the random ones.
    public var scriptedPartitions: [ScriptedPartition] = []

    public static let defaultTimeouts = TimeoutPolicy(
        proposeBase: .milliseconds(300), prevoteBase: .milliseconds(200), precommitBase: .milliseconds(200),
        delta: .milliseconds(100))

    public init(seed: UInt64, nodeCount: Int, byzantine: [Int: ByzantineBehaviour] = [:],
                faultyNetwork: NetworkFaults = .calm, faultPhase: Duration = .seconds(2),
                partitionChange: Ratio = .never, crash: Ratio = .never,
                restartDelay: ClosedRange<Duration> = .milliseconds(100)...(.seconds(2)),
                heightsAfterHeal: Height = 2, livenessBudget: Duration = .seconds(600),
                timeouts: TimeoutPolicy = defaultTimeouts, tickInterval: Duration = .milliseconds(250),
                injectedFaults: InjectedFaults = InjectedFaults(), walEnabled: Bool = true,
                crashAtBoundary: (node: Int, boundary: Int)? = nil, eventsMax: Int = 5_000_000) {
        precondition(nodeCount >= 1 && byzantine.keys.allSatisfy { $0 < nodeCount })
        self.seed = seed
        self.nodeCount = nodeCount
        self.byzantine = byzantine
        self.faultyNetwork = faultyNetwork
        self.faultPhase = faultPhase
        self.partitionChange = partitionChange
        self.crash = crash
        self.restartDelay = restartDelay
        self.heightsAfterHeal = heightsAfterHeal
        self.livenessBudget = livenessBudget
        self.timeouts = timeouts
        self.tickInterval = tickInterval
        self.injectedFaults = injectedFaults
        self.walEnabled = walEnabled
        self.crashAtBoundary = crashAtBoundary
        self.eventsMax = eventsMax
    }

    /// The committee sizes the swarm cycles through: 3f+1 (4, 7, 10, 13) and the sizes between, where the quorum
    /// n − f is not 2f+1 (5 and 6 with f = 1, 8 with f = 2).
    public static let swarmNodeCounts = [4, 5, 6, 7, 8, 10, 13]

    /// Derives a whole run from `seed`: n from `nodeCounts` (by seed mod count, so consecutive seeds cycle through
    /// them), f = ⌊(n−1)/3⌋ faulty nodes — each Byzantine with a random behaviour or, one time in six, an honest node
    /// whose WAL is rolled back at every restart — and random network faults, partitions and crashes.
    public static func swarm(seed: UInt64, nodeCounts: [Int] = swarmNodeCounts) -> ConsensusSimulationOptions {
        var rng = DeterministicRNG(seed: seed ^ 0x5EED_0F_C0_4E_5E_45)
        let n = nodeCounts[Int(seed % UInt64(nodeCounts.count))]
        let f = (n - 1) / 3
        var byzantine: [Int: ByzantineBehaviour] = [:]
        var rolledBack: Set<Int> = []
        for node in Array(0..<n).shuffled(using: &rng).prefix(f) {
            if rng.chance(Ratio(1, 6)) {
                rolledBack.insert(node)
            } else {
                byzantine[node] = ByzantineBehaviour.allCases.randomElement(using: &rng)!
            }
        }
        let delayMax = Duration.milliseconds(Int.random(in: 5...400, using: &rng))
        let faults = NetworkFaults(
            delayMin: .milliseconds(1), delayMax: delayMax,
            drop: Ratio(UInt64.random(in: 0...25, using: &rng), 100),
            duplicate: Ratio(UInt64.random(in: 0...15, using: &rng), 100),
            reorder: Ratio(UInt64.random(in: 0...30, using: &rng), 100),
            reorderDelayMax: .milliseconds(Int.random(in: 0...800, using: &rng)))
        var options = ConsensusSimulationOptions(
            seed: seed, nodeCount: n, byzantine: byzantine, faultyNetwork: faults,
            faultPhase: .milliseconds(Int.random(in: 500...6_000, using: &rng)),
            partitionChange: Ratio(UInt64.random(in: 0...40, using: &rng), 100),
            crash: Ratio(UInt64.random(in: 0...4, using: &rng), 1_000))
        options.rolledBack = rolledBack
        return options
    }

    /// f = ⌊(n−1)/3⌋, the faults the committee tolerates.
    public var faultsTolerated: Int { (nodeCount - 1) / 3 }

    /// Nodes that count against f: the Byzantine ones and, unless told otherwise, the rolled-back ones.
    public var faultyCount: Int { byzantine.count + (rollbackCountsAsFaulty ? rolledBack.count : 0) }

    /// More faulty nodes than f: the run still reports every check, but none of them is promised.
    public var faultBudgetExceeded: Bool { faultyCount > faultsTolerated }

    public var description: String {
        let byz = byzantine.keys.sorted().map { "\($0):\(byzantine[$0]!.rawValue)" }.joined(separator: ",")
        let rb = rolledBack.sorted().map(String.init).joined(separator: ",")
        return "SIM_SEED=\(seed) n=\(nodeCount) f=\(faultsTolerated) byzantine=[\(byz)] rolledBack=[\(rb)]"
            + (rollbackCountsAsFaulty ? "" : "(as honest)") + " network={\(faultyNetwork)} faultPhase=\(faultPhase) "
            + "partitionChange=\(partitionChange) crash=\(crash) wal=\(walEnabled) faults=\(injectedFaults)"
            + " tornWrite=\(tornWrite)" + (dropTornTail ? "" : " strictRecovery")
            + (crashAtBoundary.map { " crashAt=node\($0.node)@\($0.boundary)" } ?? "")
            + scriptedPartitions.map { " partition@\($0.at)=\($0.groups)" }.joined()
    }
}

/// A partition that starts at a fixed virtual time.
public struct ScriptedPartition: Sendable, Equatable {
    public var at: Duration
    /// Node i's side.
    public var groups: [Int]

    public init(at: Duration, groups: [Int]) {
        self.at = at
        self.groups = groups
    }
}
