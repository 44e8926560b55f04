import ArgumentParser
import Foundation

/// `darknode-meshtest net …`: the peer mesh, seen working, in test modes the shipped `darknode` does not have.
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

/// `darknode-meshtest net demo --nodes N`: starts N node processes on loopback in a full mesh, has each broadcast,
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
        let executable = MeshTestExecutable.path
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
