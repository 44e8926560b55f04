import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import Network
import Secp256k1

/// Broadcast throughput and delivery latency of the mesh on loopback, for 4, 7 and 13 in-process nodes.
func benchNetwork(_ h: inout Harness) {
    print("== network (loopback, unattested test handshake, in-process nodes) ==")
    for n in [4, 7, 13] {
        let result = runBroadcastBench(nodes: n, messagesPerNode: 2_000, payloadBytes: 256)
        print(String(format: "n=%-3d broadcasts/s %9.0f  deliveries/s %9.0f  latency p50 %@  p99 %@", n,
                     result.broadcastsPerSecond, result.deliveriesPerSecond,
                     Harness.format(result.p50) as NSString, Harness.format(result.p99) as NSString))
        fflush(nil)
    }
}

struct BroadcastBenchResult {
    let broadcastsPerSecond: Double
    let deliveriesPerSecond: Double
    let p50: Double
    let p99: Double
}

func runBroadcastBench(nodes n: Int, messagesPerNode: Int, payloadBytes: Int) -> BroadcastBenchResult {
    let semaphore = DispatchSemaphore(value: 0)
    let box = NIOLockedValueBox<BroadcastBenchResult?>(nil)
    Task.detached {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let keys = (0..<n).map { _ in PrivateKey.generate() }
        let ids = Set(keys.map { PeerID($0.publicKey) })
        var meshes: [Mesh] = []
        for key in keys {
            var config = MeshConfiguration(
                identity: key, authenticator: UnattestedTestAuthenticator(identity: key, enabledForTesting: true), admitted: ids)
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
            for mesh in meshes {
                tasks.addTask {
                    var payload = [UInt8](repeating: 0, count: payloadBytes)
                    for i in 0..<messagesPerNode {
                        let now = DispatchTime.now().uptimeNanoseconds
                        withUnsafeBytes(of: now.bigEndian) { for k in 0..<8 { payload[k] = $0[k] } }
                        try? mesh.broadcast(payload, topic: "bench")
                        if i % 32 == 31 { try? await Task.sleep(nanoseconds: 200_000) }
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
