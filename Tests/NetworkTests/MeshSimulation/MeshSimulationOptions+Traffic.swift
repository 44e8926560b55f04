import SimulationKit

@testable import Network

/// Re-attestation on every node, with short intervals; one node's platform evidence goes bad at a random moment of
/// the fault phase (its peers must evict it at their next challenge and refuse it in the handshake from then on).
struct ReattestationPlan: CustomStringConvertible {
    var turnsBad = true
    /// It turns bad 500 ms after the mesh converged (every peer then has a connection to it, and no fault ends
    /// one) rather than during the fault phase.
    var afterConvergence = false
    var description: String { "reattestation(turnsBad: \(turnsBad)\(afterConvergence ? " after convergence" : ""))" }
}

/// Gossip over an admission graph that is not full (a ring with a chord now and then), items originated all along;
/// optionally a hostile pusher admitted by two honest nodes, which relays pushes at once, pushes hashes nobody has,
/// sends content nobody asked for and never answers a pull.
struct GossipPlan: CustomStringConvertible {
    var hostilePusher = true
    /// Items originated after the mesh converged (each must reach every member within `deliveryBound`).
    var lateItems = 12
    /// They are originated within this long after the convergence.
    var lateSpread: Duration = .seconds(1)
    var description: String { "gossip(hostile pusher: \(hostilePusher), \(lateItems) items after convergence)" }
}

/// One node's consumer stops taking events for a while, after the mesh converged, while every other node sends it
/// numbered direct messages.
struct LagPlan: CustomStringConvertible {
    var pause: ClosedRange<Duration> = .milliseconds(500)...(.milliseconds(1_500))
    /// Each other node sends the lagging one a message this often (and the others one each ten times as seldom).
    var sendInterval: Duration = .milliseconds(4)
    var trafficDuration: Duration = .milliseconds(2_500)
    /// The consumer, once it resumes, takes up to this many events per take.
    var takeBatch = 16
    var takeInterval: Duration = .milliseconds(5)
    var description: String { "lag(pause \(pause), a message every \(sendInterval))" }
}

extension MeshSimulationOptions {
    var trafficDescription: String {
        [reattestation.map { " \($0)" }, gossip.map { " \($0)" }, lag.map { " \($0)" }].compactMap { $0 }.joined()
    }

    /// A node whose evidence went bad is evicted by a peer within this long of the later of the moment it went bad
    /// and the install of the connection: a check that passed just before (evidence produced in time) comes at
    /// most a timeout (and a tick) after its challenge, the next challenge an interval (and a tick) later, and its
    /// failure or missed deadline at most a timeout (and a tick) after that.
    var evictionBound: Duration {
        limits.reattestationInterval + limits.reattestationTimeout * 2 + limits.timerResolution * 4
    }

    /// A late item crosses each hop of the admission graph with a push, a pull and the content (each at most the
    /// calm network's delay); at each hop the hostile pusher may have been pulled from first, costing a pull
    /// timeout and the tick that notices it.
    func deliveryBound(diameter: Int) -> Duration {
        let hop = limits.pendingPullTimeout + limits.timerResolution * 2 + calm.delayMax * 3
        return hop * diameter + limits.timerResolution
    }

    /// Churn with re-attestation every second and one node turning bad (during the churn for even seeds, after
    /// the convergence for odd ones).
    static func reattestation(seed: UInt64) -> MeshSimulationOptions {
        var options = churn(seed: seed)
        options.scenario = "re-attestation"
        options.honestCount = 3 + Int(seed % 3)
        options.reattestation = ReattestationPlan(afterConvergence: seed % 2 == 1)
        options.limits.reattestationInterval = .seconds(1)
        options.limits.reattestationTimeout = .milliseconds(500)
        options.limits.attestationAnswerInterval = .seconds(1)
        return options
    }

    /// Gossip over a ring-like admission graph, 4 s of partitions, items all along, a hostile pusher.
    static func gossip(seed: UInt64) -> MeshSimulationOptions {
        var options = MeshSimulationOptions(
            scenario: "gossip", seed: seed, honestCount: 4 + Int(seed % 3),
            faults: NetworkFaults(delayMin: .milliseconds(1), delayMax: .milliseconds(30)), faultPhase: .seconds(4))
        options.chaos = .partitions
        options.gossip = GossipPlan()
        options.limits.pendingPulls = 32
        options.limits.pendingPullsPerPeer = 8
        options.limits.pendingPullTimeout = .milliseconds(500)
        // Every late item must have had its bound before the run ends (the ring of 6 has diameter 3).
        options.stableWindow = max(options.stableWindow, options.gossip!.lateSpread + options.deliveryBound(diameter: 3) + .milliseconds(500))
        return options
    }

    /// A full mesh of 3–4 nodes on a calm network; after it converged one consumer stops for a while.
    static func laggingConsumer(seed: UInt64) -> MeshSimulationOptions {
        var options = MeshSimulationOptions(
            scenario: "lagging consumer", seed: seed, honestCount: 3 + Int(seed % 2),
            faults: NetworkFaults(delayMin: .milliseconds(1), delayMax: .milliseconds(15)), faultPhase: .milliseconds(500))
        options.chaos = .none
        options.lag = LagPlan()
        options.limits.eventBufferMessages = 64
        return options
    }
}
