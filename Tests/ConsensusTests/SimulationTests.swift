import Consensus
import Foundation
import SimulationSupport
import Testing
import TestSupport

/// Seeded whole-system runs (TigerBeetle's VOPR). `SIM_SEED=<seed>` replays one seed (same commit and toolchain);
/// `CONSENSUS_SEEDS=<count>` changes how many seeds the swarm runs (2,000 by default, 50,000 for the long run).
@Suite(.dedicatedThread) struct SimulationTests {
    static let environment = ProcessInfo.processInfo.environment
    static let replaySeed = environment["SIM_SEED"].flatMap(UInt64.init)
    static let seedCount = environment["CONSENSUS_SEEDS"].flatMap(UInt64.init) ?? 2_000
    static let chunks = 8

    /// Goal: agreement, validity, no honest double signature, no false evidence and progress after the heal, for
    /// every seed. Method: seeds 0..<count cycle n through 4, 7, 10, 13, each with f Byzantine nodes; the swarm is
    /// split into chunks that run in parallel. A failure prints its options line, which starts with SIM_SEED=.
    @Test(arguments: 0..<chunks)
    func swarm(chunk: Int) {
        let seeds: [UInt64] =
            if let replay = Self.replaySeed { chunk == 0 ? [replay] : [] }
            else { Array(stride(from: UInt64(chunk), to: Self.seedCount, by: Self.chunks)) }
        var failures = 0
        var decided: UInt64 = 0
        for seed in seeds {
            var simulation = ConsensusSimulation(options: .swarm(seed: seed))
            let report = simulation.run()
            decided += report.decidedHeights
            if !report.passed || Self.replaySeed != nil { print(report) }
            if !report.passed { failures += 1 }
            #expect(report.passed, "\(report)")
            if failures >= 3 { break }
        }
        if !seeds.isEmpty { #expect(decided > 0) }
    }

    /// The lock trap (see `ByzantineBehaviour.lockTrap`), n = 4: node 1, the Byzantine proposer of round 0, makes
    /// nodes 0 and 3 lock its value v and lets only node 0 see the precommit quorum, so node 0 decides v; node 2, the
    /// proposer of round 1, gets a conflicting proposal and stays unlocked. A partition then cuts node 0 off (it
    /// would hand the others its certificate) until the heal. In round 1 node 2 proposes a fresh w, and node 1 backs
    /// it: with the lock respected node 3 prevotes nil and w gets no quorum; with the lock ignored, nodes 2 and 3
    /// decide w. Calm network (1–10 ms), so the timing holds for every seed.
    static func lockTrap(seed: UInt64, ignoreLock: Bool) -> ConsensusSimulationOptions {
        var options = ConsensusSimulationOptions(
            seed: seed, nodeCount: 4, byzantine: [1: .lockTrap], faultyNetwork: .calm, faultPhase: .seconds(3))
        options.scriptedPartitions = [ScriptedPartition(at: .milliseconds(100), groups: [0, 1, 1, 1])]
        options.injectedFaults = InjectedFaults(ignoreLock: ignoreLock)
        return options
    }

    /// Goal: the checks can fail. Method: the lock trap with honest processes that ignore their lock (L23/L29) must
    /// end in an agreement violation on every seed, at height 1 between node 0 and the others; the same runs with
    /// the lock respected must pass every check, progress after the heal included.
    @Test(arguments: UInt64(0)..<8)
    func ignoringTheLockBreaksAgreement(seed: UInt64) {
        var broken = ConsensusSimulation(options: Self.lockTrap(seed: seed, ignoreLock: true))
        let brokenReport = broken.run()
        #expect(brokenReport.violations.contains { if case .agreement(1, _, _, _) = $0 { true } else { false } },
                "\(brokenReport)")
        var correct = ConsensusSimulation(options: Self.lockTrap(seed: seed, ignoreLock: false))
        let correctReport = correct.run()
        #expect(correctReport.passed, "\(correctReport)")
        #expect(correctReport.decidedHeights >= 3, "\(correctReport)")
    }

    /// Goal: the same seed gives the same run. Method: run one seed twice and compare the reports.
    @Test func replayIsExact() {
        var a = ConsensusSimulation(options: .swarm(seed: 4242))
        var b = ConsensusSimulation(options: .swarm(seed: 4242))
        let ra = a.run(), rb = b.run()
        #expect(ra.description == rb.description)
        #expect(ra.events == rb.events && ra.messagesSent == rb.messagesSent)
    }

    static func crashOptions(boundary: Int, wal: Bool) -> ConsensusSimulationOptions {
        var options = ConsensusSimulationOptions(
            seed: 77, nodeCount: 4, byzantine: [3: .equivocate],
            faultyNetwork: NetworkFaults(delayMin: .milliseconds(1), delayMax: .milliseconds(60)),
            faultPhase: .seconds(3), restartDelay: .milliseconds(10)...(.milliseconds(400)), heightsAfterHeal: 2)
        options.crashAtBoundary = (node: 0, boundary: boundary)
        options.walEnabled = wal
        return options
    }

    /// Goal: crash-restart at every step boundary never produces a double vote. Method: node 0 crashes exactly at
    /// its k-th effect boundary (before a WAL append, between an append and its broadcast, after a commit, …), for
    /// every k over several heights, restarts from its WAL with an application that would now propose something
    /// else, and the run is checked for double signatures, agreement and progress.
    @Test func crashAtEveryEffectBoundaryNeverDoubleSigns() {
        for boundary in 0..<150 {
            var simulation = ConsensusSimulation(options: Self.crashOptions(boundary: boundary, wal: true))
            let report = simulation.run()
            #expect(report.passed, "\(report)")
            #expect(report.crashes == 1, "boundary \(boundary) was reached, and only that crash happened")
        }
    }

    /// Goal: the double-sign check can fail. Method: the same crashes with the WAL switched off; some restart must
    /// sign a second, different message for a slot it had already signed.
    @Test func withoutTheWALARestartDoubleSigns() {
        let found = (0..<150).contains { boundary in
            var simulation = ConsensusSimulation(options: Self.crashOptions(boundary: boundary, wal: false))
            return simulation.run().violations.contains { if case .doubleSign = $0 { true } else { false } }
        }
        #expect(found)
    }
}
