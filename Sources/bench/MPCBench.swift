import Foundation
import MPC
import Secp256k1
import MPCSimulator
import SimulationKit

/// Per-party CPU of the threshold-ECDSA protocols, with the whole committee simulated in one process (so a
/// phase's total time divided by n is one party's share of the work), for n = 13 (t = 4) and n = 31 (t = 10).
/// NEAR's published figures for robust ECDSA (DJNPO20 variant; near/mpc `docs/benches/model.md`, see docs/mpc.md)
/// are printed beside ours.
func benchMPC(_ h: inout Harness) {
    print("== mpc ==")
    // Each measurement is a whole-committee run (seconds at n = 31): fewer batches than the default.
    let savedBatches = h.batches
    h.batches = 3
    defer { h.batches = savedBatches }
    let near: [Int: (presign: String, sign: String)] = [13: ("4.90 ms", "114.6 µs"), 31: ("24.56 ms", "129.5 µs")]
    for (t, n) in [(4, 13), (10, 31)] {
        let parameters = try! CommitteeParameters(size: n, threshold: t)
        var rng = DeterministicRNG(seed: 2026)
        var shares: [KeyShare] = []
        h.measure("mpc n=\(n) t=\(t) key generation (per party)", iterations: n) {
            let network = try! MPCSimulation.generateKey(parameters: parameters, rng: &rng)
            shares = network.sessions.compactMap(\.keyShare)
        }
        precondition(shares.count == n)
        let batch = 16
        var presign: LocalNetwork<PresignSession>?
        h.measure("mpc n=\(n) t=\(t) presignature (per party, batch \(batch))", iterations: n * batch) {
            presign = try! MPCSimulation.presign(keyShares: shares, count: batch, rng: &rng)
        }
        print("  NEAR robust ECDSA n=\(n): presign \(near[n]!.presign), sign \(near[n]!.sign) per party")
        // Signature shares and combining, from a fresh batch per measurement.
        var network = try! MPCSimulation.presign(keyShares: shares, count: batch, rng: &rng)
        let digests = (0..<batch).map { BitcoinHash.sha256(Array("bench \($0)".utf8)) }
        let signers = Array(0..<(2 * t + 1))
        // Taken before the presignatures are handed out (a session forgets them then).
        let publicData = network.sessions[0].publicData
        var signatureShares: [[SignatureShare]] = Array(repeating: [], count: batch)
        let clock = ContinuousClock()
        var shareTime = Duration.zero
        for slot in signers {
            var ledger = PresignatureLedger(epoch: shares[0].epoch)
            var presignatures = network.sessions[slot].takePresignatures()
            for k in 0..<batch {
                let presignature = presignatures.next()!
                let assignment = try! PresignatureAssignment(id: presignature.id, digest: digests[k], epoch: shares[0].epoch)
                let start = clock.now
                let share = try! presignature.signatureShare(for: assignment, ledger: &ledger)
                shareTime += clock.now - start
                signatureShares[k].append(share)
            }
        }
        let shareNanoseconds = Double(shareTime.components.attoseconds) / 1e9 + Double(shareTime.components.seconds) * 1e9
        print(String(format: "%-58@ %14@/op", "mpc n=\(n) t=\(t) signature share (per signer)" as NSString,
                     Harness.format(shareNanoseconds / Double(signers.count * batch)) as NSString))
        h.measure("mpc n=\(n) t=\(t) combine + verify (per signature)", iterations: batch) {
            for k in 0..<batch {
                var combiner = try! SignatureCombiner(presignature: publicData[k], key: shares[0].publicData, digest: digests[k])
                for share in signatureShares[k] { try! combiner.add(share) }
                precondition(combiner.combine() != nil)
            }
        }
        _ = presign
    }
}

/// CPU time of this thread, in nanoseconds.
private func threadCPUNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// One party's presigning cost, measured honestly: a whole committee runs once over the in-process network
/// (messages as bytes), its agreed transcript is recorded, and a fresh copy of ONE member's session replays it
/// alone: it deals (commitments, encryption of every member's shares), decodes and validates every message
/// (its own included), decrypts and checks its shares, proves and opens, and finishes the batch. The figure is
/// that thread's CPU time divided by the batch size, median of 5 replays. Fast path: everyone honest. Slow path:
/// one member silent from the start, so rounds close on timeout votes and the pessimistic checks run.
func benchMPCReplay(_ h: inout Harness) {
    print("== mpc-replay (one party's CPU replaying a recorded transcript, per presignature) ==")
    let near: [Int: String] = [13: "4.90 ms", 31: "24.56 ms"]
    for (t, n) in [(4, 13), (10, 31)] {
        let parameters = try! CommitteeParameters(size: n, threshold: t)
        var rng = DeterministicRNG(seed: 2027)
        let shares = try! MPCSimulation.generateKey(parameters: parameters, rng: &rng).sessions.compactMap(\.keyShare)
        precondition(shares.count == n)
        let batch = 16
        let silentSlot = n - 1
        for (label, behaviours) in [
            ("fast path", [:] as [Int: LocalNetwork<PresignSession>.Behaviour]),
            ("slow path (member \(n) silent)", [silentSlot: { _ in [] }]),
        ] {
            var network = try! MPCSimulation.presignNetwork(keyShares: shares, count: batch, rng: &rng, behaviours: behaviours)
            let party = 0
            let fresh = network.sessions[party]
            network.run()
            precondition(network.sessions[party].status == .finished, "the recorded run did not finish")
            let wire = network.wireTranscript
            let bytes = wire.reduce(0) { $0 + $1.count }
            var samples: [Double] = []
            for _ in 0..<5 {
                var replay = fresh
                let start = threadCPUNanoseconds()
                _ = replay.start(now: .zero)
                for encoded in wire {
                    guard let message = try? MPCWire.decode(encoded) else { continue }
                    try? replay.handle(message, now: .zero)
                    _ = replay.tick(now: .zero)
                }
                let elapsed = threadCPUNanoseconds() - start
                precondition(replay.status == .finished && replay.publicData.count == batch, "the replay did not finish")
                samples.append(Double(elapsed) / Double(batch))
            }
            samples.sort()
            print(String(format: "%-58@ %14@/op   (transcript %d messages, %.2f MB; NEAR n=%d: %@)",
                         "mpc n=\(n) t=\(t) presignature, one party, \(label)" as NSString,
                         Harness.format(samples[samples.count / 2]) as NSString, wire.count,
                         Double(bytes) / 1e6, n, near[n]! as NSString))
        }
    }
}
