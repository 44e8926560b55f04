import Consensus
import Secp256k1
import ConsensusSimulator
import SimulationKit

/// Decisions per second and messages per decision of the whole consensus stack (encode, sign, verify with a shared
/// cache, replica, process) in the simulator on a calm network, for n = 4, 7, 13, 31: pure CPU, virtual time. Beside
/// it, in the same run, one ECDSA sign + verify: the crypto floor of one decision is (2n+1) of each, as each of the
/// n validators signs two votes and one proposer signs a proposal.
func benchConsensus(_ h: inout Harness) {
    print("== consensus (simulator, calm network, no faults) ==")
    let savedBatches = h.batches
    h.batches = 3
    defer { h.batches = savedBatches }

    var rng = DeterministicRNG(seed: 1)
    let key = PrivateKey.generate(using: &rng)
    let digest = [UInt8](repeating: 7, count: 32)
    let signature = try! key.signature(for: digest)
    h.measure("ECDSA sign + verify (libsecp256k1)", iterations: 1_000) {
        for _ in 0..<1_000 {
            blackHole(try! key.signature(for: digest))
            blackHole(key.publicKey.isValidSignature(signature, for: digest))
        }
    }

    var previous: (n: Int, perDecision: Double, messages: Double)?
    for (n, heights) in [(4, 200), (7, 100), (13, 40), (31, 10)] {
        var messages = 0
        let name = "decision, n=\(n) (\(heights) heights per run)"
        let result = h.measure(name, iterations: heights) {
            var options = ConsensusSimulationOptions(seed: 1, nodeCount: n, faultPhase: .zero, heightsAfterHeal: Height(heights))
            options.eventsMax = 50_000_000
            var simulation = ConsensusSimulation(options: options)
            let report = simulation.run()
            precondition(report.passed && report.decidedHeights >= Height(heights), "\(report)")
            messages = report.messagesSent
        }
        let perDecision = Double(messages) / Double(heights)
        print(String(format: "  n=%d: %.0f messages/decision (2n² = %d), %.1f decisions/s", n, perDecision, 2 * n * n,
                     result.operationsPerSecond))
        if let p = previous {
            print(String(format: "  n %d→%d (×%.2f): time/decision ×%.2f, messages/decision ×%.2f", p.n, n,
                         Double(n) / Double(p.n), result.nanosecondsPerOperation / p.perDecision, perDecision / p.messages))
        }
        previous = (n, result.nanosecondsPerOperation, perDecision)
    }
}
