import Foundation
import MeshTestKit
import NIOConcurrencyHelpers
import NIOPosix
import Network
import Secp256k1
import SecureChannel

/// Broadcast throughput and delivery latency of the mesh on loopback for 4, 7 and 13 in-process nodes.
///
/// Two transports side by side in one run: the production one (EKEP with simulated attestation, AES-GCM frames)
/// and the plain-TCP test handshake (no encryption), which is the peer that shows what the secure channel costs.
/// Two loads: saturation (every node broadcasts as fast as back-pressure allows: throughput) and a paced load of
/// 100 broadcasts/s per node (latency of a mesh that is not queueing).
func benchNetwork(_ h: inout Harness) {
    print("== network (loopback, in-process nodes, 256-byte payloads) ==")
    let environment = ProcessInfo.processInfo.environment
    let quick = environment["BENCH_QUICK"] != nil
    // Narrowing knobs for A/B runs of one configuration: BENCH_NETWORK_NODES=4,7 picks the mesh sizes,
    // BENCH_NETWORK_MESSAGES the saturated broadcasts per node, BENCH_NETWORK_SATURATED_ONLY skips the paced run.
    let sizes = environment["BENCH_NETWORK_NODES"].map { $0.split(separator: ",").compactMap { Int($0) } } ?? [4, 7, 13]
    let saturatedMessages = environment["BENCH_NETWORK_MESSAGES"].flatMap { Int($0) } ?? (quick ? 300 : 2_000)
    let saturatedOnly = environment["BENCH_NETWORK_SATURATED_ONLY"] != nil
    for n in sizes {
        for transport in [BenchTransport.ekep, .plainTCP] {
            let saturated = runBroadcastBench(
                nodes: n, transport: transport, messagesPerNode: saturatedMessages, payloadBytes: 256, ratePerNode: nil)
            let paced =
                saturatedOnly
                ? nil
                : runBroadcastBench(
                    nodes: n, transport: transport, messagesPerNode: quick ? 100 : 300, payloadBytes: 256, ratePerNode: 100)
            print(String(
                format: "n=%-3d %-9@ saturated: broadcasts/s %8.0f deliveries/s %8.0f | paced 100/s/node: latency p50 %@ p99 %@",
                n, transport.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) as NSString, saturated.broadcastsPerSecond, saturated.deliveriesPerSecond,
                (paced.map { Harness.format($0.p50) } ?? "-") as NSString, (paced.map { Harness.format($0.p99) } ?? "-") as NSString))
            fflush(nil)
        }
    }
}

enum BenchTransport: String {
    /// EKEP with simulated attestation, then AES-GCM frames: what nodes run.
    case ekep = "ekep"
    /// The test-only handshake: identity keys, no attestation, no encryption.
    case plainTCP = "plain-tcp"
}

struct BroadcastBenchResult {
    let broadcastsPerSecond: Double
    let deliveriesPerSecond: Double
    let p50: Double
    let p99: Double
}

/// Every node broadcasts `messagesPerNode` messages (as fast as possible, or at `ratePerNode` per second); every
/// node receives all the others'. Latency is from the send call to the receiving node's event consumer.
func runBroadcastBench(
    nodes n: Int, transport: BenchTransport, messagesPerNode: Int, payloadBytes: Int, ratePerNode: Double?
) -> BroadcastBenchResult {
    let semaphore = DispatchSemaphore(value: 0)
    let box = NIOLockedValueBox<BroadcastBenchResult?>(nil)
    Task.detached {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let keys = (0..<n).map { _ in PrivateKey.generate() }
        let ids = Set(keys.map { PeerID($0.publicKey) })
        let measurement = [UInt8](repeating: 0x42, count: 32)
        let policy = MeasurementAllowListPolicy(allowedMeasurements: [measurement], allowSimulation: true)
        var meshes: [Mesh] = []
        for key in keys {
            let authenticator: any PeerAuthenticator
            switch transport {
            case .ekep:
                authenticator = try! EKEPAuthenticator.simulated(
                    identity: key, measurement: measurement, platformKey: PrivateKey.generate(), policy: policy)
            case .plainTCP:
                authenticator = UnattestedTestAuthenticator(identity: key, enabledForTesting: true)
            }
            var config = MeshConfiguration(identity: key, authenticator: authenticator, admitted: ids)
            config.logger.logLevel = .error
            config.limits.messagesPerSecondPerPeer = 1e9
            config.limits.messageBurstPerPeer = 1e9
            let mesh = Mesh(configuration: config, group: group)
            _ = try! await mesh.start()
            meshes.append(mesh)
        }
        for i in 0..<n { for j in (i + 1)..<n { _ = try? await meshes[i].connect(host: "127.0.0.1", port: meshes[j].listenPort) } }
        while meshes.contains(where: { $0.connectedPeers.count < n - 1 }) { try? await Task.sleep(nanoseconds: 5_000_000) }
        let expectedPerNode = messagesPerNode * (n - 1)
        let start = DispatchTime.now().uptimeNanoseconds
        let collectors = meshes.map { mesh in
            Task { () -> [UInt64] in
                var latencies: [UInt64] = []
                latencies.reserveCapacity(expectedPerNode)
                for await event in mesh.events {
                    guard case .message(let m) = event else { continue }
                    let sent = m.payload.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    latencies.append(DispatchTime.now().uptimeNanoseconds &- sent)
                    if latencies.count == expectedPerNode { break }
                }
                return latencies
            }
        }
        await withTaskGroup(of: Void.self) { tasks in
            for (index, mesh) in meshes.enumerated() {
                tasks.addTask {
                    var payload = [UInt8](repeating: 0, count: payloadBytes)
                    let interval = ratePerNode.map { UInt64(1e9 / $0) }
                    // Paced senders start spread over one interval, so nodes do not send in lockstep.
                    let first = start + (interval ?? 0) * UInt64(index) / UInt64(n)
                    for i in 0..<messagesPerNode {
                        if let interval {
                            let due = first + UInt64(i) * interval
                            let now = DispatchTime.now().uptimeNanoseconds
                            if due > now { try? await Task.sleep(nanoseconds: due - now) }
                        }
                        let now = DispatchTime.now().uptimeNanoseconds
                        withUnsafeBytes(of: now.bigEndian) { for k in 0..<8 { payload[k] = $0[k] } }
                        // A peer whose outbound queue was full did not get the message: resend it to that peer once
                        // the queue drains, so every collector gets every message (ignoring this made the run wait
                        // forever when a loaded machine filled a queue).
                        var full = (try? mesh.broadcast(payload, topic: "bench")) ?? []
                        while !full.isEmpty {
                            try? await Task.sleep(nanoseconds: 200_000)
                            full = full.filter { peer in
                                do throws(MeshError) {
                                    try mesh.send(payload, topic: "bench", to: peer)
                                    return false
                                } catch {
                                    if case .outboundQueueFull = error { return true }
                                    return false
                                }
                            }
                        }
                        if interval == nil, i % 32 == 31 { try? await Task.sleep(nanoseconds: 200_000) }
                    }
                }
            }
        }
        var all: [UInt64] = []
        for c in collectors { all += await c.value }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
        all.sort()
        let result = BroadcastBenchResult(
            broadcastsPerSecond: Double(n * messagesPerNode) / elapsed * 1e9,
            deliveriesPerSecond: Double(all.count) / elapsed * 1e9,
            p50: Double(all[all.count / 2]), p99: Double(all[all.count * 99 / 100]))
        for mesh in meshes { await mesh.stop() }
        // Let in-flight reconnect tasks observe the stop before the event loops go away.
        try? await Task.sleep(nanoseconds: 100_000_000)
        try? await group.shutdownGracefully()
        box.withLockedValue { $0 = result }
        semaphore.signal()
    }
    semaphore.wait()
    return box.withLockedValue { $0! }
}
