import Testing
import TestSupport

@testable import Network

/// The mesh simulation with traffic: re-attestation, gossip with a hostile pusher, a lagging consumer. The
/// connection invariants of `MeshSimulationTests` hold in every run too. `MESH_SIM_SEED` / `MESH_SIM_SEEDS` /
/// `MESH_SIM_TRACE` work as there (these scenarios run a quarter of `MESH_SIM_SEEDS`, 10 by default).
@Suite(.dedicatedThread) struct MeshTrafficSimulationTests {
    static func swarm(_ options: (UInt64) -> MeshSimulationOptions) -> [MeshSimulationReport] {
        MeshSimulationTests.swarm(share: 4, options)
    }

    /// Goal: with re-attestation every second, a node whose platform evidence goes bad mid-churn is evicted by
    /// every peer within `evictionBound` of its next challenge and never installed again while bad (the handshake
    /// appraises evidence too); honest nodes are never evicted after the heal and stay connected through the
    /// stable window; no node challenges a peer more than once per `reattestationInterval` nor answers on a
    /// connection more than once per half of it. Method: churn seeds (3–5 nodes), the bad moment at random.
    @Test func aNodeWhoseEvidenceGoesBadIsEvictedAndHonestNodesStay() {
        let reports = Self.swarm(MeshSimulationOptions.reattestation)
        let failed = reports.map(\.traffic.attestationsFailed).reduce(0, +)
        print("re-attestation: \(MeshSimulationTests.summary(reports)), \(reports.map(\.traffic.challenges).reduce(0, +)) challenges,"
              + " \(reports.map(\.traffic.attestationsPassed).reduce(0, +)) passed, \(failed) failed,"
              + " \(reports.map(\.traffic.badEvictions).reduce(0, +)) evictions of the bad node")
        #expect(reports.allSatisfy { $0.traffic.badAt != nil })
        #expect(failed > 0, "some challenge met bad evidence")
    }

    /// Goal: gossip over an admission graph that is not full reaches every member exactly once within a bound
    /// derived from the limits (per hop: a pull timeout, two ticks and three network delays), although a hostile
    /// pusher relays every hash first and never delivers, pushes hashes nobody has (in bursts over its quota) and
    /// sends content nobody asked for; pending pulls stay within their per-peer and total limits and nothing is
    /// stored that was not pulled and did not match its hash. Method: 4–6 nodes on a ring (a chord at random),
    /// 4 s of partitions with items originated all along, then 12 items after the mesh converged.
    @Test func gossipReachesEveryMemberOnceDespiteAPusherThatNeverDelivers() {
        let reports = Self.swarm(MeshSimulationOptions.gossip)
        let retried = reports.map(\.traffic.retriedPulls).reduce(0, +)
        print("gossip: \(MeshSimulationTests.summary(reports)), \(reports.map(\.traffic.gossipDeliveries).reduce(0, +)) deliveries,"
              + " slowest late item \(reports.map(\.traffic.slowestDelivery).max() ?? .zero), \(retried) pulls retried,"
              + " at most \(reports.map(\.traffic.maximumPullsPerPeer).max() ?? 0) pending per peer")
        #expect(retried > 0, "pulls to the hostile pusher expired and went to honest pushers")
        #expect(reports.map(\.traffic.maximumPullsPerPeer).max() == MeshSimulationOptions.gossip(seed: 0).limits.pendingPullsPerPeer)
    }

    /// Goal: when one node's consumer stops taking events, reads stop there (segments wait in the network) and
    /// the events waiting never exceed `eventBufferMessages` plus those reported while reads were paused; once it
    /// resumes every numbered message is taken exactly once, in order. Method: 3–4 nodes, full mesh, calm
    /// network; after convergence the others send the lagging node a message every 4 ms for 2.5 s, and its
    /// consumer stops for 0.5–1.5 s.
    @Test func aLaggingConsumerPausesReadsAndLosesNothing() {
        let reports = Self.swarm(MeshSimulationOptions.laggingConsumer)
        let limits = MeshSimulationOptions.laggingConsumer(seed: 0).limits
        print("lagging consumer: \(MeshSimulationTests.summary(reports)), \(reports.map(\.traffic.readPauses).reduce(0, +)) read pauses,"
              + " at most \(reports.map(\.traffic.maximumWaiting).max() ?? 0) events waiting (buffer \(limits.eventBufferMessages)),"
              + " at most \(reports.map(\.traffic.maximumReadWhilePaused).max() ?? 0) frames read while paused,"
              + " at most \(reports.map(\.traffic.maximumHeld).max() ?? 0) segments held at a node,"
              + " \(reports.map(\.traffic.messagesTaken).reduce(0, +)) messages taken")
        #expect(reports.allSatisfy { $0.traffic.readPauses > 0 }, "every run paused reads")
    }

    /// Goal: a seed replays exactly, traffic included. Method: one seed of each scenario twice.
    @Test(arguments: ["re-attestation", "gossip", "lagging consumer"])
    func aSeedReplaysExactly(scenario: String) {
        let make: (UInt64) -> MeshSimulationOptions = switch scenario {
        case "re-attestation": MeshSimulationOptions.reattestation
        case "gossip": MeshSimulationOptions.gossip
        default: MeshSimulationOptions.laggingConsumer
        }
        var a = MeshNetworkSimulation(options: make(77))
        var b = MeshNetworkSimulation(options: make(77))
        let (ra, rb) = (a.run(), b.run())
        #expect(ra.description == rb.description)
        #expect(ra.events == rb.events && ra.traffic.hostilePushes == rb.traffic.hostilePushes
            && ra.traffic.messagesTaken == rb.traffic.messagesTaken && ra.traffic.challenges == rb.traffic.challenges)
    }
}
