import Foundation
import MeshTestKit
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Secp256k1
import Testing
import WireCodec

@testable import Network

/// Opt-in (`DARKNODE_SOAK=1`, about 45 s): an admitted hostile peer floods a node for 30 s while two honest
/// peers send at a steady pace. The process's resident memory must stay under a stated cap, and every honest
/// message must arrive; the honest delivery rates before and during the flood are printed.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DARKNODE_SOAK"] == "1"))
struct FloodSoakTests {
    /// Resident set size of this process, from /proc (Linux).
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Counts deliveries per topic without keeping them (a log would grow with the flood).
    final class Counter: Sendable {
        let counts = NIOLockedValueBox<[String: Int]>([:])
        let task: Task<Void, Never>
        init(_ mesh: Mesh) {
            let counts = counts
            task = Task {
                for await event in mesh.events {
                    if case .message(let m) = event { counts.withLockedValue { $0[m.topic, default: 0] += 1 } }
                }
            }
        }
        func count(_ topic: String) -> Int { counts.withLockedValue { $0[topic] ?? 0 } }
    }

    static let floodSeconds = 30.0
    static let calmSeconds = 5.0
    static let honestPerSecond = 200.0
    /// Growth of resident memory over the run allowed before the test fails: what the bounds allow the victim to
    /// hold (64 MiB of events waiting for the consumer, 16 MiB outbound per peer) plus the same again for the
    /// other three meshes in this process, the flooder's 16 MiB write-buffer water mark and the runtime.
    static let memoryCapBytes = 256 << 20

    @Test func aHostileFloodForThirtySecondsKeepsMemoryBoundedAndHonestTrafficFlowing() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        // Built here rather than by `startMeshes`, whose event log would keep every flood message.
        let keys = (0..<4).map { _ in PrivateKey.generate() }
        var meshes: [Mesh] = []
        for key in keys {
            let config = MeshConfiguration(
                identity: key, authenticator: UnattestedTestAuthenticator(identity: key, enabledForTesting: true),
                admitted: Set(keys.map { PeerID($0.publicKey) }))
            meshes.append(Mesh(configuration: config, group: group))
        }
        let counters = meshes.map(Counter.init)  // the only consumer of each mesh's events
        for mesh in meshes { try await mesh.start() }
        let nodes = meshes.map { (mesh: $0, id: $0.identity) }
        let (victim, hostile, honest) = (nodes[0], nodes[1], [nodes[2], nodes[3]])
        let counter = counters[0]
        for node in nodes.dropFirst() { try await node.mesh.connect(host: "127.0.0.1", port: victim.mesh.listenPort) }
        #expect(await eventually { victim.mesh.connectedPeers.count == 3 }, "the victim sees all three peers")
        let baseline = Self.residentBytes()
        let peak = NIOLockedValueBox(baseline)
        let sent = NIOLockedValueBox(0)
        let flooding = NIOLockedValueBox(false)
        let stop = NIOLockedValueBox(false)

        let pacer = Task {
            let clock = ContinuousClock()
            let start = clock.now
            var k = 0
            while !stop.withLockedValue({ $0 }) {
                let due = start + .seconds(Double(k) / Self.honestPerSecond)
                if clock.now < due { try? await Task.sleep(until: due, clock: clock) }
                for peer in honest {
                    // A full queue is reported; the message is retried, never lost.
                    while (try? peer.mesh.send(Array("honest \(k)".utf8), topic: "honest", to: victim.id)) == nil {
                        try? await Task.sleep(for: .milliseconds(1))
                        if stop.withLockedValue({ $0 }) { return }
                    }
                }
                sent.withLockedValue { $0 += 2 }
                k += 1
                if k % 50 == 0 { peak.withLockedValue { $0 = max($0, Self.residentBytes()) } }
            }
        }
        let flooder = Task {
            var random = SystemRandomNumberGenerator()
            let big = [UInt8](repeating: 0xAB, count: 16 << 10)
            while !stop.withLockedValue({ $0 }) {
                guard flooding.withLockedValue({ $0 }) else {
                    try? await Task.sleep(for: .milliseconds(10))
                    continue
                }
                guard let channel = try? hostile.mesh.channel(for: victim.id) else {
                    // Disconnected for persistent rate abuse: come back and flood again.
                    _ = try? await hostile.mesh.connect(host: "127.0.0.1", port: victim.mesh.listenPort)
                    continue
                }
                // Written on the channel's event loop while it is writable, so the flooder's own queue stays
                // bounded (its memory counts in this process too).
                let seed = random.next() as UInt64
                let wrote = try? await channel.eventLoop.submit {
                    var written = 0
                    while channel.isWritable, written < 256 {
                        let hash = (0..<4).flatMap { i in withUnsafeBytes(of: (seed &+ UInt64(written) &* 31 &+ UInt64(i)).bigEndian, Array.init) }
                        hostile.mesh.send(.direct, payload: big, topic: "flood", on: channel)
                        hostile.mesh.send(.gossipPush, payload: [], hash: hash, on: channel)
                        hostile.mesh.send(.attestationChallenge, payload: hash, on: channel)
                        hostile.mesh.send(.ping, payload: [UInt8](repeating: 1, count: 8), on: channel)
                        written += 1
                    }
                    return written
                }.get()
                if (wrote ?? 0) < 256 { try? await Task.sleep(for: .milliseconds(1)) }
            }
        }

        func phase(_ seconds: Double) async -> (honest: Int, flood: Int) {
            let (h0, f0) = (counter.count("honest"), counter.count("flood"))
            try? await Task.sleep(for: .seconds(seconds))
            return (counter.count("honest") - h0, counter.count("flood") - f0)
        }
        let calm = await phase(Self.calmSeconds)
        flooding.withLockedValue { $0 = true }
        let flood = await phase(Self.floodSeconds)
        flooding.withLockedValue { $0 = false }
        stop.withLockedValue { $0 = true }
        _ = await (pacer.value, flooder.value)
        let total = sent.withLockedValue { $0 }
        #expect(await eventually(120) { counter.count("honest") == total }, "every honest message arrived")
        let stats = victim.mesh.statistics
        let growth = peak.withLockedValue { $0 } - baseline
        print(
            """
            flood soak: honest deliveries/s \(Int(Double(calm.honest) / Self.calmSeconds)) calm, \
            \(Int(Double(flood.honest) / Self.floodSeconds)) during the flood (target \(Int(Self.honestPerSecond * 2))); \
            flood messages delivered \(flood.flood), throttled \(stats.throttledMessages), pushes ignored \(stats.ignoredPushes), \
            challenges ignored \(stats.ignoredChallenges), read pauses \(stats.readPauses); \
            resident memory \(baseline >> 20) MiB at start, peak growth \(growth >> 20) MiB (cap \(Self.memoryCapBytes >> 20) MiB); \
            honest sent \(total), arrived \(counter.count("honest"))
            """)
        #expect(growth < Self.memoryCapBytes, "resident memory grew \(growth >> 20) MiB")
        #expect(stats.throttledMessages > 0, "the flood reached the rate limits")
        for mesh in meshes { await mesh.stop() }
        try await group.shutdownGracefully()
    }
}
