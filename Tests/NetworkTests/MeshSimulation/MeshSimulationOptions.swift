import Foundation
import Secp256k1
import SimulationKit

@testable import Network

/// How a hostile node behaves: it ignores back-off and dials an honest node every `dialInterval`, leaving some
/// connections mid-handshake (they hold a handshake slot until the timeout) and completing the others, then
/// dropping them after a while to dial again.
struct HostileBehaviour: CustomStringConvertible {
    /// Whether the honest nodes admit its identity (an admitted peer turned hostile) or not (a stranger).
    var admitted: Bool
    var dialInterval: Duration = .milliseconds(6)
    /// Share of its connections that never send a handshake message.
    var stalled = Ratio(3, 4)
    /// Source addresses it dials from (one per connection, at random).
    var sources = 1
    /// As the decider it never sends the verdict byte (the other side waits until its verdict timeout).
    var withholdsVerdicts = false
    var description: String {
        "hostile(\(admitted ? "admitted" : "stranger"), every \(dialInterval), \(sources) source address(es))"
    }
}

/// Which faults the controller injects during the fault phase.
enum ChaosMix: String {
    /// Cuts, crashes and restarts (process or whole host), partitions, heals and simultaneous dials.
    case everything
    /// Only partitions into random sides and heals, on a network that loses nothing.
    case partitions
    /// Only connections cut at one end.
    case cuts
    /// Mostly both ends of a pair connecting to each other at once, and cuts.
    case simultaneousDials
    case none
}

/// One run of `MeshNetworkSimulation`. `description` starts with `MESH_SIM_SEED=`, so a failure can be replayed
/// (`MESH_SIM_SEED=<seed> swift test --filter MeshSimulationTests`).
struct MeshSimulationOptions: CustomStringConvertible {
    var scenario: String
    var seed: UInt64
    var honestCount: Int
    /// The network during the fault phase, and after it (delays only).
    var faults: NetworkFaults
    var calm = NetworkFaults(delayMin: .milliseconds(1), delayMax: .milliseconds(15))
    /// Chaos runs until `faultPhase`: random cuts, crashes and restarts, partitions, simultaneous dials. Then the
    /// network heals, every node restarts that was down, and the mesh must be full within `settleBound`.
    var faultPhase: Duration
    var chaos: ChaosMix = .everything
    /// After converging the mesh must stay as it is (same connection for every pair) this long.
    var stableWindow: Duration = .seconds(4)
    /// Every node lists every other as a bootstrap address, so both ends of every pair dial (else one or both).
    var mutualBootstrap = false
    /// One honest node loses admission at a random moment of the fault phase.
    var revokeOne = false
    var hostile: HostileBehaviour?
    /// Traffic scenarios (`MeshSimulationOptions+Traffic`): re-attestation, gossip, a lagging consumer.
    var reattestation: ReattestationPlan?
    var gossip: GossipPlan?
    var lag: LagPlan?
    var limits = MeshSimulationOptions.simulationLimits
    /// Print every dial, install, report and close (`MESH_SIM_TRACE=1` with `MESH_SIM_SEED`).
    var trace = ProcessInfo.processInfo.environment["MESH_SIM_TRACE"] != nil
    /// The driver's own timeouts (the NIO connect timeout and the handshake timeout are the driver's, not the state's).
    var connectTimeout: Duration = .seconds(1)
    var handshakeTimeout: Duration { limits.handshakeTimeout }

    /// The mesh's limits with its timeouts scaled down (so a run covers many reconnects in a few virtual seconds),
    /// handshake slots small enough for a simulated flood to reach them, an address book smaller than the mesh (so
    /// its cap is reached) and a coarser timer (fewer events).
    static var simulationLimits: NetworkLimits {
        var limits = NetworkLimits()
        limits.livenessInterval = .seconds(1)
        limits.livenessTimeout = .seconds(2)
        limits.reconnectInitial = .milliseconds(100)
        limits.reconnectMaximum = .seconds(2)
        limits.verdictTimeout = .seconds(2)
        limits.handshakeTimeout = .seconds(1)
        limits.handshakesInProgressMax = 24
        limits.handshakesPerAddressMax = 4
        limits.timerResolution = .milliseconds(50)
        limits.addressRecordsMax = 3
        return limits
    }

    /// How long after the heal the mesh may take to be full: a stale connection is noticed within the liveness
    /// interval and timeout, then up to two failed attempts (each a connect or handshake timeout, a verdict
    /// timeout and the longest back-off) precede one that succeeds.
    var settleBound: Duration {
        let attempt = connectTimeout + handshakeTimeout + limits.verdictTimeout + limits.reconnectMaximum
        return limits.livenessInterval + limits.livenessTimeout + attempt * 3 + limits.timerResolution * 2
    }

    /// The most dials of one target a planner that respects its back-off makes within one second: the smallest
    /// delays (each scaled by 1 − jitter) of consecutive attempts, summed until a second is full.
    var maximumDialsPerSecond: Int {
        var dials = 1
        var elapsed: Duration = .zero
        for attempt in 0..<30 {
            let base = min(limits.reconnectMaximum, limits.reconnectInitial * (1 << attempt))
            elapsed += .milliseconds(max(1, Int64(Double(base.wholeMilliseconds) * (1 - limits.reconnectJitter))))
            guard elapsed < .seconds(1) else { break }
            dials += 1
        }
        return dials
    }

    var description: String {
        "MESH_SIM_SEED=\(seed) \(scenario): nodes=\(honestCount) faults=[\(faults)] faultPhase=\(faultPhase) chaos=\(chaos.rawValue)"
            + " revokeOne=\(revokeOne) \(hostile.map { "\($0)" } ?? "no hostile node")\(trafficDescription)"
    }

    static let lossy = NetworkFaults(
        delayMin: .milliseconds(1), delayMax: .milliseconds(30), drop: Ratio(1, 400), duplicate: Ratio(1, 50),
        reorder: Ratio(1, 10), reorderDelayMax: .milliseconds(50))

    /// Churn: 3–6 nodes, a lossy, duplicating, reordering network, every kind of fault for 6 s.
    static func churn(seed: UInt64) -> MeshSimulationOptions {
        MeshSimulationOptions(scenario: "churn", seed: seed, honestCount: 3 + Int(seed % 4), faults: lossy, faultPhase: .seconds(6))
    }

    /// Simultaneous dials: 2–3 nodes that all dial each other from the start, then mostly pairs connecting to each
    /// other at once (and cuts) for 3 s, on a reordering network.
    static func simultaneousDials(seed: UInt64) -> MeshSimulationOptions {
        var options = MeshSimulationOptions(
            scenario: "simultaneous dials", seed: seed, honestCount: 2 + Int(seed % 2),
            faults: NetworkFaults(
                delayMin: .milliseconds(1), delayMax: .milliseconds(20), reorder: Ratio(1, 4),
                reorderDelayMax: .milliseconds(30)),
            faultPhase: .seconds(3))
        options.chaos = .simultaneousDials
        options.mutualBootstrap = true
        return options
    }

    /// Churn, and one node loses admission at a random moment of it.
    static func revocation(seed: UInt64) -> MeshSimulationOptions {
        var options = churn(seed: seed)
        options.scenario = "revocation"
        options.revokeOne = true
        return options
    }

    /// Partitions only (random sides, some longer than the liveness timeout), on a network that loses nothing.
    static func partitions(seed: UInt64) -> MeshSimulationOptions {
        var options = MeshSimulationOptions(
            scenario: "partitions", seed: seed, honestCount: 3 + Int(seed % 4),
            faults: NetworkFaults(delayMin: .milliseconds(1), delayMax: .milliseconds(30)), faultPhase: .seconds(10))
        options.chaos = .partitions
        return options
    }

    /// A hostile node dials the honest ones from the start to the end; the honest connections are cut now and then
    /// during the first 2 s, then must converge and stay as they are while the attack goes on.
    static func hostile(seed: UInt64, admitted: Bool) -> MeshSimulationOptions {
        var options = MeshSimulationOptions(
            scenario: "hostile", seed: seed, honestCount: 3 + Int(seed % 3),
            faults: NetworkFaults(delayMin: .milliseconds(1), delayMax: .milliseconds(15)), faultPhase: .seconds(2))
        options.chaos = .cuts
        options.hostile = HostileBehaviour(admitted: admitted)
        return options
    }
}

/// Identity keys and their signed address records, made once (signing is the slow part of setting up a run).
/// Each run deals the keys to its nodes in a seeded order, so which node decides a pair varies with the seed.
enum MeshSimulationKeys {
    static let count = 8
    static let keys = seededKeys(count, seed: 2026)
    static let peers = keys.map(authenticatedPeer)
    static func host(_ node: Int) -> String { "10.0.0.\(node + 1)" }
    static let port = 4000
    /// records[key][node]: the record of key `key` at node `node`'s address.
    static let records: [[PeerAddressRecord]] = keys.map { key in
        (0..<count).map { node in
            try! PeerAddressRecord.make(identity: key, host: host(node), port: UInt16(port), timestampMilliseconds: 1_000)
        }
    }
    /// The records by their signed bytes: the driver's signature check, done once here.
    static let verified: [Data: PeerAddressRecord] = Dictionary(
        uniqueKeysWithValues: records.joined().map { ((try! $0.signed.serializedData()), $0) })
}
