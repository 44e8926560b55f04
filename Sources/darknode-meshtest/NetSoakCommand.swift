import ArgumentParser
import Foundation
import Logging
import MeshTestKit
import NIOPosix
import Network
import Secp256k1

/// A long-running test node (internal, test-only): deterministic identity from a seed, static peers, a steady
/// broadcast stream, and a JSON status line every 250 ms. The partition test runs two of these in network
/// namespaces and cuts the link between them with iptables.
struct NetSoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak", abstract: "Test-only soak node (seeded identity, static peers).", shouldDisplay: false)

    @Option var host = "127.0.0.1"
    @Option var port: Int = 0
    @Option(help: "Comma-separated host:port of peers to keep connected.") var peers = ""
    @Option(help: "Seed of this node's test identity.") var seed: UInt64
    @Option(help: "Comma-separated seeds of every admitted test identity.") var seeds: String
    @Option var durationSeconds: Double = 20
    @Option var intervalMilliseconds: Int = 10
    @Option var livenessMilliseconds: Int64 = 5_000
    @OptionGroup var security: MeshSecurityOptions

    func run() async throws {
        guard security.unattestedTestHandshake else {
            throw ValidationError("soak is a test tool: pass --unattested-test-handshake")
        }
        let key = SeededIdentity.key(seed: seed)
        let admitted = Set(seeds.split(separator: ",").compactMap { UInt64($0) }.map { PeerID(SeededIdentity.key(seed: $0).publicKey) })
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var config = MeshConfiguration(
            identity: key, authenticator: UnattestedTestAuthenticator(identity: key, enabledForTesting: true), admitted: admitted)
        config.host = host
        config.port = port
        config.limits.livenessInterval = .milliseconds(livenessMilliseconds)
        config.limits.livenessTimeout = .milliseconds(livenessMilliseconds * 2)
        config.limits.reconnectMaximum = .seconds(1)
        config.logger.logLevel = .warning
        config.bootstrap = peers.split(separator: ",").compactMap { entry in
            let parts = entry.split(separator: ":")
            guard parts.count == 2, let p = Int(parts[1]) else { return nil }
            return (host: String(parts[0]), port: p)
        }
        let mesh = Mesh(configuration: config, group: group)
        try await mesh.start()
        let received = Task { () -> Void in
            for await _ in mesh.events {}
        }
        let clock = ContinuousClock()
        let start = clock.now
        var lastReport = start
        var sequence: UInt64 = 0
        while clock.now - start < .seconds(durationSeconds) {
            sequence += 1
            try? mesh.broadcast(withUnsafeBytes(of: sequence.bigEndian, Array.init), topic: "soak")
            if clock.now - lastReport >= .milliseconds(250) {
                lastReport = clock.now
                let elapsed = (clock.now - start).components
                let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
                let object: [String: Any] = [
                    "t": seconds, "received": mesh.statistics.receivedMessages, "connected": mesh.connectedPeers.count,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
            try await Task.sleep(for: .milliseconds(intervalMilliseconds))
        }
        received.cancel()
        await mesh.stop()
        try await group.shutdownGracefully()
    }
}
