import API
import ArgumentParser
import Dispatch
import Enclave
import Foundation
import Logging
import NIOPosix
import Network
import Node
import Secp256k1
import ServiceLifecycle
import Shard
import Synchronization

/// `darknode run`: the long-running node process. Its settings come from the data directory's `darknode.toml`
/// (`[mesh]`, `[shard]`, `[rpc]`, `[log]`; see `NodeSettings`), each overridden by the matching flag. It joins the attested mesh from its data directory (listens, dials
/// its peers, answers pings and re-attestation challenges, re-attests its peers). With `--genesis` it is a member of
/// that shard: the committee is its admission set and the other members its peers, and it runs consensus with the
/// shard application on the mesh, sealing every decided block and its write-ahead log to the store (MPC signing is
/// not yet driven by the node).
///
/// Standard output carries one JSON object per line: first `{"event":"listening",...}` with the identity and the
/// bound address, then `connected`, `disconnected`, `refused` and `evicted` events, and a `status` line
/// (connected peers, messages, refusals, passed re-attestations) every `--status-interval-ms`. SIGINT or SIGTERM stops it
/// gracefully (`RunningNode`).
/// With `--rpc HOST:PORT` (needs `--genesis`) it also serves JSON-RPC for submissions and queries (docs/node.md) and
/// prints `{"event":"rpc-listening","address":...}` once listening.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run this node: join the attested peer mesh from its data directory (JSON events on stdout).")

    @OptionGroup var node: NodeMeshOptions

    @Option(help: "Address to listen on (HOST:PORT; port 0 picks a free one). Default: [mesh] listen, else 127.0.0.1:18515.")
    var listen: HostPort?

    @Option(name: .customLong("peer"), help: "A peer address to keep connected (HOST:PORT); repeatable. Replaces [mesh] peers.")
    var peers: [HostPort] = []

    @Option(name: .customLong("admit"), help: "An identity key (compressed secp256k1, hex) allowed to connect; repeatable. Added to [mesh] admit.")
    var admit: [String] = []

    @Option(name: .customLong("admit-file"), help: "A file with one admitted identity key (hex) per line; # comments.")
    var admitFile: String?

    @Option(name: .customLong("reattestation-interval-ms"), help: "How often each peer must attest again over the live channel.")
    var reattestationIntervalMilliseconds: Int64?

    @Option(name: .customLong("status-interval-ms"), help: "How often to print a status line (default 10000).")
    var statusIntervalMilliseconds: Int64?

    @Option(help: "A shard genesis file (written by `darknode localnet`): run consensus as a member of that shard.")
    var genesis: String?

    @Option(name: .customLong("idle-block-interval-ms"), help: "With a genesis: pause after an empty block with nothing waiting (default 500).")
    var idleBlockIntervalMilliseconds: Int64?

    @Option(help: "With --genesis: serve JSON-RPC 2.0 over HTTP (ren_submitTx, ren_queryTx, darknode_*) on HOST:PORT (port 0 picks a free one).")
    var rpc: HostPort?

    func validate() throws {
        guard (reattestationIntervalMilliseconds ?? 100) >= 100, (statusIntervalMilliseconds ?? 100) >= 100 else {
            throw ValidationError("--reattestation-interval-ms and --status-interval-ms must be at least 100")
        }
        guard (idleBlockIntervalMilliseconds ?? 0) >= 0 else { throw ValidationError("--idle-block-interval-ms must be ≥ 0") }
        for key in admit where Self.peerID(key) == nil {
            throw ValidationError("--admit must be a 33-byte compressed secp256k1 key in hex: \(key)")
        }
    }

    /// Set to "1" by a supervisor whose death should stop this node.
    /// Set by a supervisor (`darknode localnet`) to its own pid: the node stops when its parent is no longer that process.
    static let stopWithParentVariable = "DARKNODE_STOP_WITH_PARENT"

    static func peerID(_ text: String) -> PeerID? {
        Hex.decode(text.trimmingCharacters(in: .whitespaces)).flatMap { PeerID(bytes: $0) }
    }

    func admissionSet(_ settings: NodeSettings) throws -> Set<PeerID> {
        var result = Set(admit.compactMap(Self.peerID)).union(settings.admitted)
        if let admitFile = admitFile ?? settings.admitFile {
            let text = try String(contentsOfFile: admitFile, encoding: .utf8)
            for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                guard let peer = Self.peerID(line) else {
                    throw ValidationError("\(admitFile):\(number + 1): not a compressed secp256k1 key in hex")
                }
                result.insert(peer)
            }
        }
        return result
    }

    func run() async throws {
        // A closed standard output (a supervisor gone) must give EPIPE on write, not kill the node mid-effect.
        signal(SIGPIPE, SIG_IGN)
        // Watched from the first line: a supervisor can die while the node is still starting up.
        let supervisor = SupervisorWatch(environment: ProcessInfo.processInfo.environment)
        supervisor?.start()
        var logger = Logger(label: "darknode.run")
        logger.logLevel = .notice
        let settings: NodeSettings
        do {
            settings = try NodeSettings.parse(DataDirectory(path: node.dataDir).configurationText())
        } catch let error as ConfigurationError {
            throw ValidationError("\(DataDirectory(path: node.dataDir).configurationPath): \(error)")
        }
        let listen = listen ?? settings.listen.map { HostPort(host: $0.host, port: $0.port) } ?? HostPort(host: "127.0.0.1", port: 18_515)
        let peers = peers.isEmpty ? settings.peers.map { HostPort(host: $0.host, port: $0.port) } : peers
        let genesis = genesis ?? settings.genesisPath
        let rpc = rpc ?? settings.rpcListen.map { HostPort(host: $0.host, port: $0.port) }
        let statusInterval = statusIntervalMilliseconds.map(Duration.milliseconds) ?? settings.statusInterval ?? .seconds(10)
        let reattestationInterval = reattestationIntervalMilliseconds.map(Duration.milliseconds) ?? settings.reattestationInterval ?? .seconds(60)
        let idleBlockInterval = idleBlockIntervalMilliseconds.map(Duration.milliseconds) ?? settings.idleBlockInterval ?? .milliseconds(500)
        if rpc != nil, genesis == nil { throw ValidationError("an RPC address needs a genesis (the RPC serves a shard)") }

        var admitted = try admissionSet(settings)
        let genesisFile = try genesis.map { path in
            do { return try GenesisFile(json: try Data(contentsOf: URL(fileURLWithPath: path))) } catch let e as GenesisFile.Failure {
                throw ValidationError("\(path): \(e)")
            }
        }
        let (opened, baseConfiguration) = try node.openNode(logger: logger, configuredMeasurements: settings.allowedMeasurements)
        defer { try? opened.store.close() }
        if opened.platform.kind == .simulated {
            FileHandle.standardError.write(Data("WARNING: INSECURE simulated enclave (no TEE hardware): for development only.\n".utf8))
        }
        var configuration = baseConfiguration
        configuration.admitted = admitted
        configuration.host = listen.host
        configuration.port = listen.port
        configuration.bootstrap = peers.map { (host: $0.host, port: $0.port) }
        if let genesisFile {
            let me = opened.identity.publicKey
            guard genesisFile.shard.committee.contains(me) else {
                throw ValidationError("this node (\(Hex.encode(me.compressed))) is not in the genesis committee")
            }
            let others = genesisFile.members.filter { $0.identity != me }
            admitted.formUnion(others.map { PeerID($0.identity) })
            configuration.admitted = admitted
            if peers.isEmpty { configuration.bootstrap = others.map { (host: $0.host, port: $0.port) } }
        }
        configuration.logger = logger
        configuration.limits.reattestationInterval = reattestationInterval
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let mesh = Mesh(configuration: configuration, group: group)
        let port = try await mesh.start()
        emitJSONLine([
            "event": "listening", "identity": Hex.encode(opened.identity.publicKey.compressed),
            "listen": HostPort(host: listen.host, port: port).description,
            "platform": opened.platform.kind.rawValue, "measurement": Hex.encode(opened.platform.measurement),
            "admitted": admitted.count,
        ])
        var runtime: NodeRuntime?
        var rpcServer: RPCServer?
        let (halted, halts) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(1))
        if let genesisFile {
            var nodeConfiguration = NodeConfiguration()
            nodeConfiguration.idleBlockInterval = idleBlockInterval
            let started = try NodeRuntime(identity: opened.identity.privateKey, genesis: genesisFile.shard, mesh: mesh,
                                          store: NodeStore(store: opened.store), configuration: nodeConfiguration, logger: logger)
            runtime = started
            Task {
                for await event in started.events {
                    emitJSONLine(event.jsonObject)
                    // A halted node (its store rolled back, its log unwritable) stops the process with a failure.
                    if case .fatal(let reason) = event { halts.yield(reason) }
                }
            }
            // Served on the mesh's event loops, listening before consensus starts (a submission only queues); a port
            // that cannot be bound stops the node with the error.
            if let rpc {
                let server = try await RPCServer.start(handler: RPCHandler(service: started), host: rpc.host, port: rpc.port, group: group)
                rpcServer = server
                emitJSONLine(["event": "rpc-listening", "address": HostPort(host: rpc.host, port: server.port).description])
            }
            await started.start()
        }
        // SIGTERM and SIGINT start a graceful shutdown (swift-service-lifecycle); one that takes longer than 10 s is
        // cancelled. A signal is handled, not fatal, so the node closes its connections and store cleanly.
        let service = RunningNode(mesh: mesh, runtime: runtime, rpcServer: rpcServer, statusInterval: statusInterval)
        var serviceConfiguration = ServiceGroupConfiguration(services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint],
                                                             logger: logger)
        serviceConfiguration.maximumGracefulShutdownDuration = .seconds(10)
        let serviceGroup = ServiceGroup(configuration: serviceConfiguration)
        supervisor?.attach(serviceGroup)
        let haltReason = HaltReason()
        let haltWatch = Task {
            for await reason in halted {
                haltReason.value.withLock { $0 = reason }
                await serviceGroup.triggerGracefulShutdown()
                return
            }
        }
        try await serviceGroup.run()
        supervisor?.stop()
        haltWatch.cancel()
        try await group.shutdownGracefully()
        if let reason = haltReason.value.withLock({ $0 }) { throw NodeHalted(reason: reason) }
    }

    final class HaltReason: Sendable { let value = Mutex<String?>(nil) }

    /// The node halted instead of being asked to stop: the exit status says so (1).
    struct NodeHalted: Error, CustomStringConvertible {
        let reason: String
        var description: String { "node halted: \(reason)" }
    }
}

/// The started node as a service: prints mesh events and status lines until a graceful shutdown, then stops in
/// dependency order — the RPC stops accepting, consensus and MPC stop (every effect was sealed before the next one
/// ran, so nothing is half-written), the mesh closes its connections.
struct RunningNode: Service {
    let mesh: Mesh
    let runtime: NodeRuntime?
    let rpcServer: RPCServer?
    let statusInterval: Duration

    func run() async throws {
        let events = Task { [runtime, mesh] in
            for await event in mesh.events {
                if let runtime { await runtime.handle(event) }
                switch event {
                case .connected(let peer):
                    var object = peer.jsonObject
                    object["event"] = "connected"
                    emitJSONLine(object)
                case .disconnected(let peer, let reason):
                    emitJSONLine(["event": "disconnected", "identity": Hex.encode(peer.bytes), "reason": reason])
                case .refused(let peer, let reason):
                    emitJSONLine(["event": "refused", "identity": peer.map { Hex.encode($0.bytes) } ?? NSNull(), "reason": reason])
                case .evicted(let peer, let reason):
                    emitJSONLine(["event": "evicted", "identity": Hex.encode(peer.bytes), "reason": reason])
                case .message:
                    break
                }
            }
        }
        let status = Task { [mesh, statusInterval] in
            // A cancelled sleep ends the loop, so no status line follows "stopping".
            while (try? await Task.sleep(for: statusInterval)) != nil {
                let stats = mesh.statistics
                emitJSONLine([
                    "event": "status", "connected": mesh.connectedPeers.count, "received": stats.receivedMessages,
                    "refused": stats.refusedConnections, "reattestations": stats.reattestationsPassed,
                    "throttled": stats.throttledMessages,
                ])
            }
        }
        // Returns on a shutdown signal (or throws if the group is cancelled: stop the same way).
        try? await gracefulShutdown()
        status.cancel()
        emitJSONLine(["event": "stopping", "reason": "graceful shutdown"])
        await rpcServer?.stop()
        await runtime?.stop()
        await mesh.stop()
        events.cancel()
    }
}

/// Waits for SIGINT or SIGTERM (handled, not fatal): `darknode localnet` stops its node processes on either.
final class SignalStop: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "darknode.signals")

    func wait() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            queue.sync {
                var resumed = false
                for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
                    signal(number, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                    source.setEventHandler {
                        guard !resumed else { return }
                        resumed = true
                        continuation.resume(returning: name)
                    }
                    source.resume()
                    sources.append(source)
                }
            }
        }
    }
}

extension NodeEvent {
    /// One JSON object per event for `darknode run`'s standard output.
    var jsonObject: [String: Any] {
        switch self {
        case .awaitingSignedHeights(let required):
            return ["event": "awaiting-signed-heights", "required": required]
        case .started(let height, let restored):
            return ["event": "consensus-started", "height": height, "restoredWALEntries": restored]
        case .decided(let height, let round, let transactions, let events, let synced):
            return ["event": "decided", "height": height, "round": round, "transactions": transactions, "synced": synced,
                    "shard": events.map(\.summary)]
        case .syncRequested(let from, let peer):
            return ["event": "sync-requested", "from": from, "peer": Hex.encode(peer.bytes)]
        case .mpc(let line):
            return ["event": "mpc", "detail": line]
        case .fatal(let reason):
            return ["event": "fatal", "reason": reason]
        }
    }
}

extension ShardEvent {
    var summary: String {
        switch self {
        case .headersRelayed(let tip, let reorganised): "headers tip=\(tip)\(reorganised ? " reorganised" : "")"
        case .shardKeyRegistered(let key): "shard-key \(Hex.encode(key.compressed))"
        case .mintAccepted(let nHash, let amount): "mint nHash=\(Hex.encode(nHash)) amount=\(amount)"
        case .sweepAccepted(let txid, let inputs): "sweep txid=\(Hex.encode(txid.reversed())) inputs=\(inputs)"
        case .presignaturesAdded(let count): "presignatures +\(count)"
        case .signingAssigned(let request, let presignature): "assigned request=\(Hex.encode(request)) presignature=\(Hex.encode(presignature))"
        case .signed(let request): "signed request=\(Hex.encode(request))"
        case .sweepSigned(let txid): "sweep-signed txid=\(Hex.encode(txid.reversed()))"
        case .misbehaviourRecorded(let offender, let height): "misbehaviour offender=\(Hex.encode(offender)) height=\(height)"
        case .mpcBroadcast(let m): "mpc session=\(Hex.encode(m.session.prefix(6))) sender=\(m.sender) round=\(m.round) bytes=\(m.payload.count)"
        }
    }
}

/// A node started by a supervisor (`darknode localnet`) stops when the supervisor dies, even by SIGKILL, so no orphan
/// keeps its ports. The supervisor names itself (its pid in `DARKNODE_STOP_WITH_PARENT`) rather than the node
/// taking whichever parent it sees: a supervisor that dies during the node's start-up has already handed the node to
/// init by the time the node could look. Before the service group runs there is nothing to stop gracefully — the
/// store is crash-safe, as after SIGKILL — so the process exits at once; afterwards it shuts down gracefully.
final class SupervisorWatch: @unchecked Sendable {
    private let supervisor: pid_t
    private let lock = NSLock()
    private var serviceGroup: ServiceGroup?  // guarded by lock
    private var task: Task<Void, Never>?  // guarded by lock

    init?(environment: [String: String]) {
        guard let value = environment[RunCommand.stopWithParentVariable], let pid = pid_t(value), pid > 1 else { return nil }
        supervisor = pid
    }

    func start() {
        let watch = Task { [self] in
            repeat {
                if getppid() != supervisor {
                    supervisorGone()
                    return
                }
            } while (try? await Task.sleep(for: .milliseconds(250))) != nil
        }
        lock.withLock { task = watch }
    }

    func attach(_ group: ServiceGroup) {
        lock.withLock { serviceGroup = group }
    }

    func stop() {
        lock.withLock { task }?.cancel()
    }

    private func supervisorGone() {
        emitJSONLine(["event": "parent-exited"])
        guard let group = lock.withLock({ serviceGroup }) else { _exit(0) }
        Task { await group.triggerGracefulShutdown() }
    }
}
