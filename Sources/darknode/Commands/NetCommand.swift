import ArgumentParser
import Foundation
import Enclave
import Logging
import Network
import SecureChannel
import NIOPosix
import Secp256k1
import SimulationSupport

/// `darknode net …`: the peer mesh, seen working.
struct NetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "net",
        abstract: "Run and inspect the attested peer mesh.",
        subcommands: [NetDemoCommand.self, NetNodeCommand.self, NetSoakCommand.self])
}

/// Options shared by the demo and its node processes.
struct MeshSecurityOptions: ParsableArguments {
    @Flag(
        name: .customLong("unattested-test-handshake"),
        help: "TEST ONLY: authenticate peers by identity key alone, without attestation or encryption.")
    var unattestedTestHandshake = false
}

/// `darknode net demo --nodes N`: starts N node processes on loopback in a full mesh, has each broadcast,
/// and prints every node's verified peer identities and message rates.
struct NetDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start N node processes on loopback exchanging broadcasts; print verified identities and rates.")

    @Option(help: "Number of node processes.") var nodes: Int = 4
    @Option(help: "Broadcasts each node sends.") var messages: Int = 200
    @Option(help: "Payload bytes per broadcast.") var size: Int = 256
    @OptionGroup var security: MeshSecurityOptions
    @Flag(help: "Print one JSON object per node instead of a table.") var json = false

    func validate() throws {
        guard (2...64).contains(nodes) else { throw ValidationError("--nodes must be between 2 and 64") }
        guard messages >= 0, size >= DemoDelivery.sequenceBytes, size <= 1 << 20 else {
            throw ValidationError("bad --messages or --size (a payload carries a \(DemoDelivery.sequenceBytes)-byte sequence number)")
        }
    }

    func run() async throws {
        if !security.unattestedTestHandshake {
            FileHandle.standardError.write(Data("WARNING: INSECURE simulated enclaves (no TEE hardware): for development only.\n".utf8))
        }
        let executable = DarknodeVersion.executablePath
        var children: [(Process, Pipe, Pipe)] = []
        var hellos: [[String: Any]] = []
        for _ in 0..<nodes {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            var args = ["net", "node", "--messages", "\(messages)", "--size", "\(size)", "--expected-peers", "\(nodes - 1)"]
            if security.unattestedTestHandshake { args.append("--unattested-test-handshake") }
            process.arguments = args
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.standardError
            try process.run()
            children.append((process, input, output))
        }
        defer { for (p, _, _) in children where p.isRunning { p.terminate() } }
        // Each child first prints {"identity", "port"}; then it is told the admission set and whom to dial.
        var readers: [LineReader] = []
        for (_, _, output) in children {
            let reader = LineReader(output.fileHandleForReading)
            readers.append(reader)
            guard let line = reader.nextLine(), let hello = Self.parse(line) else {
                throw ValidationError("a node process did not start")
            }
            hellos.append(hello)
        }
        let identities = hellos.compactMap { $0["identity"] as? String }
        let ports = hellos.compactMap { $0["port"] as? Int }
        for (index, (_, input, _)) in children.enumerated() {
            let plan: [String: Any] = [
                "admitted": identities,
                "dial": ports.enumerated().filter { $0.offset > index }.map { "127.0.0.1:\($0.element)" },
            ]
            let data = try JSONSerialization.data(withJSONObject: plan)
            input.fileHandleForWriting.write(data + Data("\n".utf8))
        }
        var reports: [[String: Any]] = []
        for reader in readers {
            guard let line = reader.nextLine(), let report = Self.parse(line) else {
                throw ValidationError("a node process exited without a report")
            }
            reports.append(report)
        }
        for (process, _, _) in children { process.waitUntilExit() }
        if json {
            for report in reports {
                let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        } else {
            for report in reports {
                let id = report["identity"] as? String ?? "?"
                print("node \(id.prefix(16))  received \(report["received"] ?? 0)  rate \(report["messagesPerSecond"] ?? 0) msg/s")
                for peer in report["peers"] as? [[String: Any]] ?? [] {
                    print("   peer \(String(describing: peer["identity"] ?? "?").prefix(16))  platform \(peer["platform"] ?? "?")  measurement \(peer["measurement"] ?? "-")  received \(peer["received"] ?? 0)  missing \(peer["missing"] ?? "?")  duplicates \(peer["duplicates"] ?? "?")")
                }
            }
        }
        // Exactly once, by message identity: from every peer each sequence number once, nothing else.
        let complete = reports.count == nodes && reports.allSatisfy { report in
            let peers = report["peers"] as? [[String: Any]] ?? []
            return peers.count == nodes - 1 && peers.allSatisfy {
                $0["distinct"] as? Int == messages && $0["duplicates"] as? Int == 0 && $0["malformed"] as? Int == 0
            }
        }
        if !complete { throw ExitCode(1) }
    }

    static func parse(_ line: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }
}

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
                try await Task.sleep(nanoseconds: UInt64(20_000_000 * (attempt + 1)))
            }
        }
        let start = ContinuousClock.now
        while mesh.connectedPeers.count < expectedPeers, ContinuousClock.now - start < .seconds(deadlineSeconds) {
            try await Task.sleep(nanoseconds: 10_000_000)
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
            try? await Task.sleep(nanoseconds: UInt64(deadlineSeconds * 1e9))
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

/// Reads newline-terminated lines from a file handle (blocking), for the demo's parent/child protocol.
final class LineReader {
    let handle: FileHandle
    var buffer = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    func nextLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[(newline + 1)...])
                return String(decoding: line, as: UTF8.self)
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}

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

    static func testKey(seed: UInt64) -> PrivateKey {
        var rng = DeterministicRNG(seed: seed)
        return PrivateKey.generate(using: &rng)
    }

    func run() async throws {
        guard security.unattestedTestHandshake else {
            throw ValidationError("soak is a test tool: pass --unattested-test-handshake")
        }
        let key = Self.testKey(seed: seed)
        let admitted = Set(seeds.split(separator: ",").compactMap { UInt64($0) }.map { PeerID(Self.testKey(seed: $0).publicKey) })
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var config = MeshConfiguration(
            identity: key, authenticator: UnattestedTestAuthenticator(identity: key, enabledForTesting: true), admitted: admitted)
        config.host = host
        config.port = port
        config.limits.livenessIntervalMilliseconds = livenessMilliseconds
        config.limits.livenessTimeoutMilliseconds = livenessMilliseconds * 2
        config.limits.reconnectMaximumMilliseconds = 1_000
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
            try await Task.sleep(nanoseconds: UInt64(intervalMilliseconds) * 1_000_000)
        }
        received.cancel()
        await mesh.stop()
        try await group.shutdownGracefully()
    }
}

/// What one `net demo` node received from one sender, by message identity: each payload starts with the sender's
/// sequence number (big-endian), so "exactly once" means every number in 0..<expected arrived and none twice — a
/// count alone would let a duplicate hide a loss.
struct DemoDelivery {
    static let sequenceBytes = 4

    let expected: Int
    private var seen: [Bool]
    private(set) var received = 0
    private(set) var distinct = 0
    private(set) var duplicates = 0
    /// Payloads too short for a sequence number, or numbered outside 0..<expected.
    private(set) var malformed = 0

    init(expected: Int) {
        self.expected = expected
        seen = [Bool](repeating: false, count: expected)
    }

    var missing: Int { expected - distinct }
    var isComplete: Bool { distinct == expected }

    static func stamp(_ payload: inout [UInt8], sequence: UInt32) {
        withUnsafeBytes(of: sequence.bigEndian) { payload.replaceSubrange(0..<sequenceBytes, with: $0) }
    }

    mutating func record(_ payload: [UInt8]) {
        received += 1
        guard payload.count >= Self.sequenceBytes else {
            malformed += 1
            return
        }
        let sequence = payload.prefix(Self.sequenceBytes).reduce(0) { $0 << 8 | Int($1) }
        guard sequence < expected else {
            malformed += 1
            return
        }
        if seen[sequence] {
            duplicates += 1
        } else {
            seen[sequence] = true
            distinct += 1
        }
    }
}
