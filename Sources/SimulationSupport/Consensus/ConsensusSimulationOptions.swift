import Consensus

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

    /// Derives a whole run from `seed`: n from `nodeCounts` (by seed mod count, so consecutive seeds cycle through
    /// them), f = ⌊(n−1)/3⌋ Byzantine nodes with random behaviours, and random network faults, partitions and crashes.
    public static func swarm(seed: UInt64, nodeCounts: [Int] = [4, 7, 10, 13]) -> ConsensusSimulationOptions {
        var rng = DeterministicRNG(seed: seed ^ 0x5EED_0F_C0_4E_5E_45)
        let n = nodeCounts[Int(seed % UInt64(nodeCounts.count))]
        let f = (n - 1) / 3
        var byzantine: [Int: ByzantineBehaviour] = [:]
        for node in Array(0..<n).shuffled(using: &rng).prefix(f) {
            byzantine[node] = ByzantineBehaviour.allCases.randomElement(using: &rng)!
        }
        let delayMax = Duration.milliseconds(Int.random(in: 5...400, using: &rng))
        let faults = NetworkFaults(
            delayMin: .milliseconds(1), delayMax: delayMax,
            drop: Ratio(UInt64.random(in: 0...25, using: &rng), 100),
            duplicate: Ratio(UInt64.random(in: 0...15, using: &rng), 100),
            reorder: Ratio(UInt64.random(in: 0...30, using: &rng), 100),
            reorderDelayMax: .milliseconds(Int.random(in: 0...800, using: &rng)))
        return ConsensusSimulationOptions(
            seed: seed, nodeCount: n, byzantine: byzantine, faultyNetwork: faults,
            faultPhase: .milliseconds(Int.random(in: 500...6_000, using: &rng)),
            partitionChange: Ratio(UInt64.random(in: 0...40, using: &rng), 100),
            crash: Ratio(UInt64.random(in: 0...4, using: &rng), 1_000))
    }

    public var description: String {
        let byz = byzantine.keys.sorted().map { "\($0):\(byzantine[$0]!.rawValue)" }.joined(separator: ",")
        return "SIM_SEED=\(seed) n=\(nodeCount) byzantine=[\(byz)] network={\(faultyNetwork)} faultPhase=\(faultPhase) "
            + "partitionChange=\(partitionChange) crash=\(crash) wal=\(walEnabled) faults=\(injectedFaults)"
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
