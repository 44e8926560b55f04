import ArgumentParser
import Bitcoin
import Enclave
import Foundation
import Logging
import Node
import Secp256k1
import Shard

/// `darknode localnet --nodes N [--dir D] [--demo]`: a whole shard on this machine. Creates N data directories on
/// the simulated (INSECURE) platform, writes a genesis naming them as the committee and each member's darknode.toml
/// (listen address, genesis, JSON-RPC on base-port + 100 + i), starts N `darknode run --data-dir` processes that attest
/// each other over EKEP, run consensus and generate the shard key, and reports their progress. `--demo` then acts as a client (regtest deposits, mints, a sweep; see `LocalnetDemo`) and exits 0.
/// Ctrl-C (or `--blocks K` decided everywhere) stops every process.
struct LocalnetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "localnet",
        abstract: "Start a local shard of N node processes (simulated, INSECURE enclaves) and show it deciding blocks.")

    @Option(help: "Number of node processes (the committee; t = (n - 1) / 3).") var nodes: Int = 4
    @Option(help: "Directory for the nodes' data, the genesis and logs (default: a new temporary directory).") var dir: String?
    @Option(name: .customLong("base-port"), help: "Node i listens on 127.0.0.1:(base-port + i).") var basePort: Int = 18_700
    @Option(help: "Exit 0 once every node has decided this many blocks (0: run until Ctrl-C).") var blocks: Int = 0
    @Option(name: .customLong("confirmations"), help: "Bitcoin confirmations a deposit needs (regtest).") var confirmations: Int = 2
    @Option(name: .customLong("idle-block-interval-ms"), help: "Pause after an empty block with nothing waiting.") var idleBlockIntervalMilliseconds: Int64 = 200
    @Flag(help: "Run the demo: regtest deposits, their mints signed by the shard and checked, then a sweep; exit 0.") var demo = false
    @Option(help: "Deposits the demo makes (and sweeps).") var deposits: Int = 3

    /// Node i serves JSON-RPC on 127.0.0.1:(base-port + 100 + i).
    var rpcBasePort: Int { basePort + 100 }

    func validate() throws {
        // n = 3t + 1 with t ≥ 1, as threshold signing requires.
        guard (4...31).contains(nodes), nodes % 3 == 1 else { throw ValidationError("--nodes must be 3t + 1 for t ≥ 1: 4, 7, 10, …, 31") }
        guard (1_024...65_000).contains(basePort) else { throw ValidationError("--base-port must be between 1024 and 65000") }
        guard blocks >= 0 else { throw ValidationError("--blocks must be ≥ 0") }
        guard (1...ShardLimits.sweepInputsMax).contains(deposits) else { throw ValidationError("--deposits must be 1…\(ShardLimits.sweepInputsMax)") }
    }

    func run() async throws {
        FileHandle.standardError.write(Data("WARNING: INSECURE simulated enclaves (no TEE hardware): a development network only.\n".utf8))
        let root = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("darknode-localnet-\(getpid())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let genesisPath = root + "/genesis.json"
        let genesis: GenesisFile
        if FileManager.default.fileExists(atPath: genesisPath) {
            genesis = try GenesisFile(json: Data(contentsOf: URL(fileURLWithPath: genesisPath)))
            guard genesis.members.count == nodes else {
                throw ValidationError("\(genesisPath) has \(genesis.members.count) members, not --nodes \(nodes)")
            }
            say("localnet: restarting the shard in \(root)")
        } else {
            genesis = try createShard(root: root)
            try genesis.json.write(to: URL(fileURLWithPath: genesisPath))
            say("localnet: created \(nodes) nodes and the genesis in \(root)")
        }
        say("localnet: committee of \(nodes), threshold t = \(genesis.shard.threshold), genesis \(Hex.encode(genesis.shard.hash.prefix(8)))…")

        // Each member's settings live in its darknode.toml, as an operator's would; `darknode run` reads them there.
        for i in 0..<nodes { try writeSettings(i, root: root, genesisPath: genesisPath) }
        let children = try (0..<nodes).map { i in try startNode(i, root: root) }
        defer { stopAll(children) }
        let progress = LocalnetProgress(nodes: nodes, genesis: genesis.shard)
        for (i, child) in children.enumerated() { child.forward(to: progress, node: i, log: root + "/node-\(i)/events.jsonl") }

        // Whichever comes first: a signal, or the target height (or a node halting).
        let (outcomes, sink) = AsyncStream.makeStream(of: String.self)
        let stop = SignalStop()
        Task { sink.yield("signal \(await stop.wait())") }
        let target = blocks
        Task {
            _ = await progress.waitUntil { target > 0 && $0.minimumHeight >= UInt64(target) && $0.hasShardKey || !$0.fatal.isEmpty }
            sink.yield("progress")
        }
        if demo {
            let clients = (0..<nodes).map { JSONRPCClient(url: URL(string: "http://127.0.0.1:\(rpcBasePort + $0)/")!) }
            let shard = genesis.shard
            let count = deposits
            Task {
                _ = await progress.waitUntil { ($0.hasShardKey && $0.presignatures > 0) || !$0.fatal.isEmpty }
                guard let key = await progress.shardKey else { return }
                do {
                    try await LocalnetDemo(rpc: clients, genesis: shard, shardKey: key, deposits: count).run()
                    sink.yield("demo complete")
                } catch {
                    say("demo failed: \(error)")
                    sink.yield("demo failed")
                }
            }
        }
        var iterator = outcomes.makeAsyncIterator()
        let outcome = await iterator.next() ?? "done"
        let summary = await progress.summary
        say("localnet: \(outcome == "progress" ? "target reached" : "stopping (\(outcome))"); \(summary)")
        if let fatal = await progress.fatal.first { throw ValidationError("a node halted: \(fatal)") }
        if outcome == "demo failed" { throw ExitCode(1) }
    }

    /// Creates the data directories and the shard genesis (regtest, a 2-of-3 recovery policy whose keys are written
    /// next to the genesis: on a real network these are offline keys held by distinct custodians).
    func createShard(root: String) throws -> GenesisFile {
        var identities: [PublicKey] = []
        for i in 0..<nodes {
            let directory = DataDirectory(path: root + "/node-\(i)")
            let opened = try directory.initialize(configuration: EnclaveConfiguration(platform: .simulated), logger: Logger(label: "darknode.localnet"))
            identities.append(opened.identity.publicKey)
            try opened.store.close()
        }
        let recoveryKeys = (0..<3).map { _ in PrivateKey.generate() }
        try recoveryKeys.map { Hex.encode($0.bytes) }.joined(separator: "\n").write(toFile: root + "/recovery-keys.hex", atomically: true, encoding: .utf8)
        let shard = try ShardGenesis(chainID: "darknode-localnet", committee: identities, threshold: (nodes - 1) / 3, bitcoinNetwork: .regtest,
                                     checkpoint: RegtestMiner.genesisCheckpoint, confirmationsRequired: confirmations,
                                     recovery: try RecoveryPolicy(threshold: 2, keys: recoveryKeys.map(\.publicKey)), selectors: ["BTC/toEthereum"])
        return try GenesisFile(shard: shard, members: identities.enumerated().map { .init(identity: $1, host: "127.0.0.1", port: basePort + $0) })
    }

    /// Writes member i's configuration file: its listen address, the genesis, its JSON-RPC address, the pacing.
    func writeSettings(_ i: Int, root: String, genesisPath: String) throws {
        var settings = NodeSettings()
        settings.listen = .init(host: "127.0.0.1", port: basePort + i)
        settings.genesisPath = genesisPath
        settings.idleBlockInterval = .milliseconds(idleBlockIntervalMilliseconds)
        settings.rpcListen = .init(host: "127.0.0.1", port: rpcBasePort + i)
        settings.statusInterval = .seconds(5)
        let text = EnclaveConfiguration(platform: .simulated).defaultFileText + "\n" + settings.fileText
        try DataDirectory(path: root + "/node-\(i)").replaceConfiguration(text: text)
    }

    func startNode(_ i: Int, root: String) throws -> LocalnetChild {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DarknodeVersion.executablePath)
        process.arguments = ["run", "--data-dir", root + "/node-\(i)"]
        // The members stop however this process ends: Ctrl-C and SIGTERM through `stopAll`, a SIGKILL because each
        // member notices it was re-parented.
        process.environment = ProcessInfo.processInfo.environment.merging([RunCommand.stopWithParentVariable: "\(getpid())"]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        say("localnet: node \(i) is process \(process.processIdentifier) (events: \(root)/node-\(i)/events.jsonl)")
        return LocalnetChild(process: process, output: output)
    }

    /// Every wait is bounded. `waitUntilExit` spins the calling thread's run loop, which off the main thread is
    /// reported to hang under load; here it ran on a pool thread. (Once in CI a localnet reported its target and
    /// then did not exit within 180 s; that this was the cause is not proven.) The exit is polled through
    /// `isRunning`, which Foundation's own monitor updates.
    func stopAll(_ children: [LocalnetChild]) {
        for c in children where c.process.isRunning { c.process.terminate() }
        let deadline = Date().addingTimeInterval(10)
        for c in children {
            while c.process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            guard c.process.isRunning else { continue }
            kill(c.process.processIdentifier, SIGKILL)
            let killed = Date().addingTimeInterval(5)
            while c.process.isRunning, Date() < killed { Thread.sleep(forTimeInterval: 0.05) }
        }
    }
}

/// One node process of the localnet and the thread that reads its JSON lines.
final class LocalnetChild: @unchecked Sendable {
    let process: Process
    let output: Pipe

    init(process: Process, output: Pipe) {
        self.process = process
        self.output = output
    }

    /// Reads the child's lines on a thread of its own (blocking reads stay off the concurrency pool), appends them to
    /// its log file and passes the parsed events on.
    func forward(to progress: LocalnetProgress, node: Int, log: String) {
        let handle = output.fileHandleForReading
        FileManager.default.createFile(atPath: log, contents: nil)
        let file = FileHandle(forWritingAtPath: log)
        let thread = Thread {
            let reader = LineReader(handle)
            while let line = reader.nextLine() {
                file?.write(Data((line + "\n").utf8))
                Task { await progress.record(node: node, line: line) }
            }
            try? file?.close()
        }
        thread.start()
    }
}

/// What the localnet knows of its nodes, from their events; prints progress as it comes.
actor LocalnetProgress {
    struct Snapshot {
        var minimumHeight: UInt64
        var fatal: [String]
        var hasShardKey: Bool
        var presignatures: Int
    }

    let genesis: ShardGenesis
    private(set) var shardKey: PublicKey?

    private var heights: [UInt64]
    private var connected: [Int]
    private(set) var fatal: [String] = []
    private var lastPrinted: UInt64 = 0
    private var presignatures = 0
    private var waiters: [(condition: (Snapshot) -> Bool, continuation: CheckedContinuation<Bool, Never>)] = []

    init(nodes: Int, genesis: ShardGenesis) {
        self.genesis = genesis
        heights = Array(repeating: 0, count: nodes)
        connected = Array(repeating: 0, count: nodes)
    }

    var snapshot: Snapshot { Snapshot(minimumHeight: heights.min() ?? 0, fatal: fatal, hasShardKey: shardKey != nil, presignatures: presignatures) }

    var summary: String { "decided heights per node: \(heights.map(String.init).joined(separator: ", "))" }

    func record(node: Int, line: String) {
        guard let event = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { return }
        switch event["event"] as? String {
        case "listening":
            say("node \(node): listening on \(event["listen"] ?? "?") as \(String(describing: event["identity"] ?? "?").prefix(16))… (\(event["platform"] ?? "?"))")
        case "rpc-listening":
            say("node \(node): JSON-RPC on http://\(event["address"] ?? "?")/")
        case "connected":
            connected[node] += 1
            if connected[node] == heights.count - 1 { say("node \(node): attested and connected to all \(connected[node]) peers") }
        case "disconnected":
            connected[node] = max(0, connected[node] - 1)
        case "consensus-started":
            say("node \(node): consensus started at height \(event["height"] ?? "?") (restored \(event["restoredWALEntries"] ?? 0) WAL entries)")
        case "decided":
            if let h = (event["height"] as? NSNumber)?.uint64Value { heights[node] = max(heights[node], h) }
            let shard = event["shard"] as? [String] ?? []
            for line in shard where node == 0 && !line.hasPrefix("mpc ") { say("shard: \(line)") }
            for line in shard where node == 0 && line.hasPrefix("presignatures +") { presignatures += Int(line.dropFirst("presignatures +".count)) ?? 0 }
            for line in shard where line.hasPrefix("shard-key ") && shardKey == nil {
                if let bytes = Hex.decode(String(line.dropFirst("shard-key ".count))), let key = try? PublicKey(encoded: bytes) {
                    shardKey = key
                    announce(key)
                }
            }
            let minimum = heights.min() ?? 0
            if minimum >= lastPrinted + 10 || (minimum > lastPrinted && minimum <= 3) {
                lastPrinted = minimum
                say("localnet: every node has decided height \(minimum)")
            }
        case "mpc" where node == 0:
            say("mpc: \(event["detail"] ?? "?")")
        case "fatal":
            let reason = "node \(node): \(event["reason"] ?? "?")"
            fatal.append(reason)
            say("FATAL \(reason)")
        default:
            break
        }
        let s = snapshot
        var remaining: [(condition: (Snapshot) -> Bool, continuation: CheckedContinuation<Bool, Never>)] = []
        for w in waiters { if w.condition(s) { w.continuation.resume(returning: true) } else { remaining.append(w) } }
        waiters = remaining
    }

    /// The shard key, the EVM address mint authorisations recover to, and the shard's custody address.
    private func announce(_ key: PublicKey) {
        say("localnet: shard key        \(Hex.encode(key.compressed))")
        say("localnet: EVM address      \(key.evmAddressString)  (MintGateway's mint authority)")
        if let custody = try? GatewayScript(gHash: nil, shardKey: key, recovery: genesis.recovery) {
            say("localnet: custody address  \(custody.address(network: genesis.bitcoinNetwork))  (P2WSH; recovery \(genesis.recovery.threshold)-of-\(genesis.recovery.keys.count) after \(genesis.recovery.delayBlocks) blocks)")
        }
    }

    func waitUntil(_ condition: @escaping (Snapshot) -> Bool) async -> Bool {
        if condition(snapshot) { return true }
        return await withCheckedContinuation { waiters.append((condition, $0)) }
    }
}

/// Prints a progress line and flushes it, so it goes out as it happens even into a pipe or file (a supervisor, a
/// test or `tee` reads it live; standard output is block-buffered when it is not a terminal).
func say(_ line: String) {
    print(line)
    fflush(nil)
}
