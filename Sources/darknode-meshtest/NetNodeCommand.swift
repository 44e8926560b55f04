import ArgumentParser
import Enclave
import Foundation
import Logging
import MeshTestKit
import NIOPosix
import Network
import Secp256k1
import SecureChannel

/// One process of `net demo` (internal): prints its identity and port, reads the plan from stdin, connects,
/// broadcasts, and prints one JSON report when it has received everything (or after a deadline).
struct NetNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "One node of `net demo` (driven over stdin/stdout).", shouldDisplay: false)

    @Option var messages: Int = 200
    @Option var size: Int = 256
    @Option var expectedPeers: Int = 3
    @Option var deadlineSeconds: Double = 180
    @OptionGroup var security: MeshSecurityOptions

    func run() async throws {
        let key = PrivateKey.generate()
        let authenticator: any PeerAuthenticator
        if security.unattestedTestHandshake {
            authenticator = UnattestedTestAuthenticator(identity: key, enabledForTesting: true)
        } else {
            // Each demo node is its own simulated machine (a fresh directory), attests over EKEP, and admits only
            // peers running this very build: the release manifest of a localnet is this executable's measurement.
            let machine = FileManager.default.temporaryDirectory.appendingPathComponent("darknode-demo-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: machine) }
            var logger = Logger(label: "darknode.enclave")
            logger.logLevel = .error
            let platform = try SimulatedPlatform(machineDirectory: machine.path, logger: logger)
            let policy = MeasurementAllowListPolicy(allowedMeasurements: [platform.measurement], allowSimulation: true)
            authenticator = try EKEPAuthenticator.forPlatform(platform, identity: key, policy: policy)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var config = MeshConfiguration(identity: key, authenticator: authenticator, admitted: [])
        config.logger.logLevel = .warning
        let mesh = Mesh(configuration: config, group: group)
        let port = try await mesh.start()
        emit(["identity": Hex.encode(key.publicKey.compressed), "port": port])
        let reader = LineReader(FileHandle.standardInput)
        guard let line = reader.nextLine(),
            let plan = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        else { throw ValidationError("no plan on stdin") }
        let admitted = Set((plan["admitted"] as? [String] ?? []).compactMap { Hex.decode($0).flatMap { PeerID(bytes: $0) } })
        mesh.updateAdmitted(admitted)
        for address in plan["dial"] as? [String] ?? [] {
            let parts = address.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]) else { continue }
            for attempt in 0..<50 {
                if (try? await mesh.connect(host: String(parts[0]), port: port)) != nil { break }
                try await Task.sleep(for: .milliseconds(20 * (attempt + 1)))
            }
        }
        let start = ContinuousClock.now
        while mesh.connectedPeers.count < expectedPeers, ContinuousClock.now - start < .seconds(deadlineSeconds) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let peerSnapshot = mesh.connectedPeers
        // Record which of each sender's sequence numbers arrived, so a loss hidden by a duplicate still shows. Once
        // every sender's numbers have all arrived, say "done"; leave only when every peer has said "done" too.
        // Per-connection FIFO order means a peer's "done" follows all its broadcasts, so no one closes a connection
        // while its messages are still in flight.
        let messageCount = messages
        let counter = Task { () -> ([PeerID: DemoDelivery], Duration) in
            var deliveries: [PeerID: DemoDelivery] = [:]
            var complete = 0
            var done: Set<PeerID> = []
            var finished: Duration = .zero
            let begin = ContinuousClock.now
            if messageCount == 0 || expectedPeers == 0 { try? mesh.broadcast([1], topic: "demo-done") }
            for await event in mesh.events {
                guard case .message(let m) = event else { continue }
                if m.topic == "demo" {
                    var delivery = deliveries[m.from] ?? DemoDelivery(expected: messageCount)
                    let wasComplete = delivery.isComplete
                    delivery.record(m.payload)
                    deliveries[m.from] = delivery
                    if !wasComplete && delivery.isComplete {
                        complete += 1
                        if complete == expectedPeers {
                            finished = ContinuousClock.now - begin
                            try? mesh.broadcast([1], topic: "demo-done")
                        }
                    }
                } else if m.topic == "demo-done" {
                    done.insert(m.from)
                }
                if complete >= expectedPeers && done.count >= expectedPeers { break }
            }
            return (deliveries, finished == .zero ? ContinuousClock.now - begin : finished)
        }
        var payload = [UInt8](repeating: 0xA5, count: size)
        for i in 0..<messages {
            DemoDelivery.stamp(&payload, sequence: UInt32(i))
            try? mesh.broadcast(payload, topic: "demo")
            if i % 64 == 63 { await Task.yield() }
        }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(deadlineSeconds))
            counter.cancel()
        }
        let (deliveries, elapsed) = await counter.value
        timeout.cancel()
        let received = deliveries.values.reduce(0) { $0 + $1.received }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let peers: [[String: Any]] = peerSnapshot.map { peer in
            let delivery = deliveries[peer.identity] ?? DemoDelivery(expected: messageCount)
            return [
                "identity": Hex.encode(peer.identity.bytes), "platform": peer.platform,
                "measurement": peer.measurement ?? NSNull(), "received": delivery.received,
                "distinct": delivery.distinct, "duplicates": delivery.duplicates, "missing": delivery.missing,
                "malformed": delivery.malformed,
            ]
        }
        emit([
            "identity": Hex.encode(key.publicKey.compressed), "received": received,
            "messagesPerSecond": seconds > 0 ? Int(Double(received) / seconds) : 0, "peers": peers,
            "droppedOutbound": mesh.statistics.droppedOutbound, "throttled": mesh.statistics.throttledMessages,
        ])
        await mesh.stop()
        try await group.shutdownGracefully()
    }

    func emit(_ object: [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
