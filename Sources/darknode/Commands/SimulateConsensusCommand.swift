import ArgumentParser
import Dispatch
import ConsensusSimulator

/// `darknode simulate-consensus`: runs seeded consensus simulations (the same runs as `SimulationTests.swarm`) and
/// reports failures with their replay line. For long runs: `darknode simulate-consensus --count 50000`.
struct SimulateConsensusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-consensus",
        abstract: "Run seeded Tendermint simulations (agreement, validity, double-sign and liveness checks).")

    @Option(help: "First seed.") var from: UInt64 = 0
    @Option(help: "Number of seeds.") var count: UInt64 = 2_000
    @Option(help: "Node counts to cycle through (seed mod count picks one).") var nodes: [Int] = ConsensusSimulationOptions.swarmNodeCounts
    @Flag(help: "Print every run, not only failures.") var verbose = false
    @Flag(help: "Print every node's height/round/step each virtual second.") var trace = false

    func run() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        var failures = 0
        var decided: UInt64 = 0
        var messages = 0
        for seed in from..<(from + count) {
            var simulation = ConsensusSimulation(options: .swarm(seed: seed, nodeCounts: nodes))
            if trace { simulation.trace = { print($0) } }
            let report = simulation.run()
            decided += report.decidedHeights
            messages += report.messagesSent
            if !report.passed { failures += 1 }
            if verbose || !report.passed { print(report) }
            if (seed - from + 1) % 1_000 == 0 { print("… \(seed - from + 1) seeds, \(failures) failures") }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("seeds \(from)..<\(from + count): \(failures) failures, \(decided) heights decided, \(messages) messages, \(Int(seconds)) s")
        if failures > 0 { throw ExitCode.failure }
    }
}
