import ArgumentParser
import Foundation
import MPC
import Secp256k1
import MPCSimulator
import SimulationKit

#if canImport(Glibc)
    import Glibc
#endif

/// CPU time of this process in milliseconds (all parties run in it, one after another, on one thread).
private func processCPUMilliseconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) * 1e3 + Double(spec.tv_nsec) / 1e6
}

/// `darknode mpc …`: the threshold-ECDSA protocols, run in one process.
struct MPCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpc",
        abstract: "Threshold ECDSA (key generation, presignatures, signing) over a simulated network.",
        subcommands: [MPCSimulateCommand.self])
}

/// `darknode mpc simulate --nodes N --threshold T [--signatures K] [--seed S]`: key generation, one batch of K
/// presignatures and K signatures by a simulated committee; one JSON line per signature, then a timing line.
struct MPCSimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run key generation, presignatures and signatures for N simulated nodes with threshold T.")

    @Option(help: "Committee size n (n = 3t + 1).")
    var nodes: Int

    @Option(help: "Threshold t: tolerated faulty nodes; 2t + 1 signers sign.")
    var threshold: Int

    @Option(help: "Number of signatures (one presignature each).")
    var signatures: Int = 1

    @Option(help: "Seed of the deterministic simulation.")
    var seed: UInt64 = 1

    func run() throws {
        let parameters = try CommitteeParameters(size: nodes, threshold: threshold)
        guard signatures >= 1, signatures <= Limits.presignaturesPerBatchMax else {
            throw ValidationError("--signatures must be 1…\(Limits.presignaturesPerBatchMax)")
        }
        var rng = DeterministicRNG(seed: seed)
        let clock = ContinuousClock()

        var start = clock.now
        var cpuStart = processCPUMilliseconds()
        let keygen = try MPCSimulation.generateKey(parameters: parameters, rng: &rng)
        let keygenTime = clock.now - start
        let keygenCPU = processCPUMilliseconds() - cpuStart
        let shares = keygen.sessions.compactMap(\.keyShare)
        guard shares.count == nodes else { throw ValidationError("key generation failed") }
        let key = shares[0].publicData

        start = clock.now
        cpuStart = processCPUMilliseconds()
        var presign = try MPCSimulation.presign(keyShares: shares, count: signatures, rng: &rng)
        let presignTime = clock.now - start
        let presignCPU = processCPUMilliseconds() - cpuStart
        guard presign.sessions.allSatisfy({ $0.status == .finished }) else { throw ValidationError("presigning failed") }

        let digests = (0..<signatures).map { BitcoinHash.sha256(Array("darknode mpc simulate \(seed) \($0)".utf8)) }
        let signers = Array(0..<(2 * threshold + 1))
        let publicData = presign.sessions[0].publicData
        var combiners = try digests.indices.map {
            try SignatureCombiner(presignature: publicData[$0], key: key, digest: digests[$0])
        }
        var shareTime = Duration.zero
        for slot in signers {
            var ledger = PresignatureLedger(epoch: key.epoch)
            var batch = presign.sessions[slot].takePresignatures()
            for k in digests.indices {
                guard let presignature = batch.next() else { throw ValidationError("missing presignature") }
                let assignment = try PresignatureAssignment(id: presignature.id, digest: digests[k], epoch: key.epoch)
                let t0 = clock.now
                let share = try presignature.signatureShare(for: assignment, ledger: &ledger)
                shareTime += clock.now - t0
                try combiners[k].add(share)
            }
        }
        var combineTime = Duration.zero
        for k in digests.indices {
            let t0 = clock.now
            guard let signature = combiners[k].combine() else { throw ValidationError("signature \(k) did not combine") }
            combineTime += clock.now - t0
            let recovered = try signature.recoverable.recoverPublicKey(digest: signature.digest)
            guard recovered == key.key else { throw ValidationError("recovery mismatch") }
            let line: [String: Any] = [
                "publicKey": Hex.encode(key.key.compressed), "digest": Hex.encode(signature.digest),
                "der": Hex.encode(signature.signature.der), "recoveryId": Int(signature.recoveryID),
                "evmAddress": key.key.evmAddressString,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
        }
        func ms(_ d: Duration) -> Double {
            Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15
        }
        let summary: [String: Any] = [
            "timing": [
                "nodes": nodes, "threshold": threshold, "signatures": signatures,
                "keygenTotalMs": ms(keygenTime), "keygenPerPartyMs": ms(keygenTime) / Double(nodes),
                "presignTotalMs": ms(presignTime),
                "keygenCPUPerPartyMs": keygenCPU / Double(nodes),
                "presignCPUPerPartyPerPresignatureMs": presignCPU / Double(nodes * signatures),
                "presignPerPartyPerPresignatureMs": ms(presignTime) / Double(nodes * signatures),
                "signatureShareMeanUs": ms(shareTime) * 1e3 / Double(signers.count * signatures),
                "combineAndVerifyMeanUs": ms(combineTime) * 1e3 / Double(signatures),
            ] as [String: Any]
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
    }
}
