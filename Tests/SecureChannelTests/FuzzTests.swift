import Foundation
import SimulationSupport
import Testing
import TestSupport

@testable import SecureChannel

/// Seeded mutation tests of frame parsing, the record layer and both handshake roles at every stage (coverage-guided
/// fuzzing of the same code is libFuzzer's job: docs/fuzzing.md, targets ekep-server, ekep-client, alts-record).
///
/// The normal run uses a modest count. The long run (documented in docs/ekep.md):
/// `EKEP_FUZZ_ITERATIONS=1000000 swift test -c release -Xswiftc -enable-testing --filter SecureChannelTests.FuzzTests`
/// Invariants: nothing crashes; a mutated input never completes a handshake unless the honest frames are an
/// intact prefix of it; a mutated record stream never yields plaintext that was not sent.
@Suite(.dedicatedThread) struct FuzzTests {
    static var iterations: Int {
        ProcessInfo.processInfo.environment["EKEP_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 20_000
    }
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["EKEP_FUZZ_SEED"].flatMap(UInt64.init) ?? 0xEC3F
    }

    /// One target: a handshaker that has consumed an honest prefix, and the honest next input for it.
    struct Target {
        let name: String
        let handshaker: EKEPHandshaker
        let honest: [UInt8]
    }

    static func targets(null: Bool) throws -> [Target] {
        let pair = SimulatedPair()
        func fresh(_ seed: UInt64) throws -> (EKEPHandshaker, EKEPHandshaker) {
            if null {
                return (EKEPHandshaker(role: .client, configuration: try nullConfiguration(), rng: DeterministicRNG(seed: seed)),
                        EKEPHandshaker(role: .server, configuration: try nullConfiguration(), rng: DeterministicRNG(seed: seed + 1)))
            }
            return try pair.handshakers(seed: seed)
        }
        var (client, server) = try fresh(1)
        var targets: [Target] = []
        let p = client.start().bytesToSend
        targets.append(Target(name: "server/ClientPrecommit", handshaker: server, honest: p))
        let sp = server.receive(p).bytesToSend
        targets.append(Target(name: "client/ServerPrecommit", handshaker: client, honest: sp))
        let cid = client.receive(sp).bytesToSend
        targets.append(Target(name: "server/ClientId", handshaker: server, honest: cid))
        let sid = server.receive(cid).bytesToSend
        targets.append(Target(name: "client/ServerId+ServerFinish", handshaker: client, honest: sid))
        let cf = client.receive(sid).bytesToSend
        targets.append(Target(name: "server/ClientFinish", handshaker: server, honest: cf))
        return targets
    }

    static func mutate(_ input: [UInt8], rng: inout DeterministicRNG, corpus: [[UInt8]]) -> [UInt8] {
        var b = input
        let rounds = 1 + Int(rng.next() % 4)
        for _ in 0..<rounds {
            switch rng.next() % 10 {
            case 0 where !b.isEmpty, 1 where !b.isEmpty:  // flip one bit
                let i = Int(rng.next() % UInt64(b.count))
                b[i] ^= UInt8(1) << (rng.next() % 8)
            case 2 where !b.isEmpty:  // random byte
                b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next())
            case 3 where !b.isEmpty:  // truncate
                b.removeLast(Int(rng.next() % UInt64(b.count)) + 1)
            case 4:  // insert bytes
                let i = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count + 1))
                b.insert(contentsOf: (0..<(1 + rng.next() % 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: i)
            case 5 where b.count > 1:  // delete a range
                let i = Int(rng.next() % UInt64(b.count))
                let n = min(b.count - i, 1 + Int(rng.next() % 16))
                b.removeSubrange(i..<(i + n))
            case 6 where b.count >= 8:  // rewrite a header field with an interesting value
                let interesting: [UInt32] = [0, 3, 4, 5, 100, 101, 106, 107, 0xFFFF_FFFF, 1 << 20, (1 << 20) + 1]
                let v = interesting[Int(rng.next() % UInt64(interesting.count))]
                let at = rng.next() % 2 == 0 ? 0 : 4
                for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
            case 7:  // splice with another corpus entry
                let other = corpus[Int(rng.next() % UInt64(corpus.count))]
                let cut = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
                let from = other.isEmpty ? 0 : Int(rng.next() % UInt64(other.count))
                b = Array(b.prefix(cut)) + other[from...]
            case 8:  // duplicate the input
                b += input
            default:  // protobuf-aware: overwrite a varint-looking byte
                if !b.isEmpty { b[Int(rng.next() % UInt64(b.count))] = [0x08, 0x0A, 0x12, 0x80, 0xFF][Int(rng.next() % 5)] }
            }
        }
        return b
    }

    /// What a run reached: mutants that still completed a handshake (an honest flight with bytes after it) and record
    /// streams that still opened (a damaged tail after intact records). Both must happen, or the checks on them never ran.
    struct Reached {
        var completedHandshakes = 0
        var openedRecordStreams = 0
        var failedHandshakes = 0
    }

    /// Runs `count` mutated inputs.
    static func run(count: Int, seed: UInt64) throws -> Reached {
        var rng = DeterministicRNG(seed: seed)
        let nullTargets = try targets(null: true)
        let simulatedTargets = try targets(null: false)
        let corpus = nullTargets.map(\.honest) + simulatedTargets.map(\.honest)
        let key = bytes(hex: "c7e0f5436c0fe4efdb6327469651b9fe")
        var sender = ALTSRecordProtector(key: key, isClient: true)
        let records = try sender.protect(Array("first".utf8)) + (try sender.protect(Array(repeating: 0x55, count: 300)))
        var reached = Reached()
        for i in 0..<count {
            let kind = rng.next() % 16
            if kind == 0 {
                // Frame parsing alone, with a random expected type.
                let input = mutate(corpus[Int(rng.next() % UInt64(corpus.count))], rng: &rng, corpus: corpus)
                let expected = Asylo_HandshakeMessageType(rawValue: 101 + Int(rng.next() % 6))!
                _ = try? HandshakeFrame.parse(input[...], expected: expected, maxFrameSize: 1 << 20)
            } else if kind == 1 {
                // The record layer: mutated streams never produce unsent plaintext.
                var receiver = ALTSRecordProtector(key: key, isClient: false)
                let input = mutate(records, rng: &rng, corpus: [records])
                if let plaintext = try? receiver.unprotect(input) {
                    reached.openedRecordStreams += 1
                    let sent = Array("first".utf8) + Array(repeating: 0x55, count: 300)
                    #expect(sent.starts(with: plaintext), "record fuzz \(i) produced forged plaintext")
                }
            } else {
                // Simulated targets every 8th handshake input: they are ~100x slower (ECDSA).
                let pool = kind == 2 ? simulatedTargets : nullTargets
                let target = pool[Int(rng.next() % UInt64(pool.count))]
                var handshaker = target.handshaker
                let input = mutate(target.honest, rng: &rng, corpus: corpus)
                // Deliver in one or two pieces.
                let split = input.isEmpty || rng.next() % 2 == 0 ? input.count : Int(rng.next() % UInt64(input.count))
                var outcome = handshaker.receive(input[..<split]).outcome
                var undelivered: [UInt8] = []
                if case .inProgress = outcome, split < input.count {
                    outcome = handshaker.receive(input[split...]).outcome
                } else {
                    undelivered = Array(input[split...])
                }
                if case .failed = outcome { reached.failedHandshakes += 1 }
                if case .completed(let result) = outcome {
                    reached.completedHandshakes += 1
                    // Completion is legitimate only if the honest flight is intact and anything else trails it.
                    #expect(input.starts(with: target.honest), "\(target.name) fuzz \(i) completed on a forgery")
                    #expect(result.unusedBytes + undelivered == Array(input.dropFirst(target.honest.count)))
                }
            }
        }
        return reached
    }

    @Test func seededMutationFuzz() throws {
        let start = Date()
        let reached = try Self.run(count: Self.iterations, seed: Self.seed)
        #expect(reached.completedHandshakes > 0, "no mutant completed a handshake: the forgery check never ran")
        #expect(reached.openedRecordStreams > 0, "no mutated record stream opened: the plaintext check never ran")
        #expect(reached.failedHandshakes > 0)
        if Self.iterations > 100_000 {
            print("EKEP mutation test: \(Self.iterations) inputs (\(reached.completedHandshakes) completed handshakes), seed \(Self.seed), \(Int(Date().timeIntervalSince(start))) s")
        }
    }
}
