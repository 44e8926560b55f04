import ArgumentParser
import Dispatch
import Foundation
import Logging
import NIOPosix
import Network
import Secp256k1

/// `darknode run`: the long-running node process. Today it joins the attested mesh from its data directory
/// (listens, dials its peers, answers pings and re-attestation challenges, re-attests its peers); consensus and
/// MPC will run on top of this mesh.
///
/// Standard output carries one JSON object per line: first `{"event":"listening",...}` with the identity and the
/// bound address, then `connected`, `disconnected`, `refused` and `evicted` events, and a `status` line
/// (connected peers, messages, refusals, passed re-attestations) every `--status-interval-ms`. Stops on SIGINT or SIGTERM.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run this node: join the attested peer mesh from its data directory (JSON events on stdout).")

    @OptionGroup var node: NodeMeshOptions

    @Option(help: "Address to listen on (HOST:PORT; port 0 picks a free one).")
    var listen: HostPort = HostPort(argument: "127.0.0.1:18515")!

    @Option(name: .customLong("peer"), help: "A peer address to keep connected (HOST:PORT); repeatable.")
    var peers: [HostPort] = []

    @Option(name: .customLong("admit"), help: "An identity key (compressed secp256k1, hex) allowed to connect; repeatable.")
    var admit: [String] = []

    @Option(name: .customLong("admit-file"), help: "A file with one admitted identity key (hex) per line; # comments.")
    var admitFile: String?

    @Option(name: .customLong("reattestation-interval-ms"), help: "How often each peer must attest again over the live channel.")
    var reattestationIntervalMilliseconds: Int64 = 60_000

    @Option(name: .customLong("status-interval-ms"), help: "How often to print a status line.")
    var statusIntervalMilliseconds: Int64 = 10_000

    func validate() throws {
        guard reattestationIntervalMilliseconds >= 100, statusIntervalMilliseconds >= 100 else {
            throw ValidationError("--reattestation-interval-ms and --status-interval-ms must be at least 100")
        }
        for key in admit where Self.peerID(key) == nil {
            throw ValidationError("--admit must be a 33-byte compressed secp256k1 key in hex: \(key)")
        }
    }

    static func peerID(_ text: String) -> PeerID? {
        Hex.decode(text.trimmingCharacters(in: .whitespaces)).flatMap { PeerID(bytes: $0) }
    }

    func admissionSet() throws -> Set<PeerID> {
        var result = Set(admit.compactMap(Self.peerID))
        if let admitFile {
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
        var logger = Logger(label: "darknode.run")
        logger.logLevel = .notice
        let admitted = try admissionSet()
        let (opened, baseConfiguration) = try node.openNode(logger: logger)
        defer { try? opened.store.close() }
        if opened.platform.kind == .simulated {
            FileHandle.standardError.write(Data("WARNING: INSECURE simulated enclave (no TEE hardware): for development only.\n".utf8))
        }
        var configuration = baseConfiguration
        configuration.admitted = admitted
        configuration.host = listen.host
        configuration.port = listen.port
        configuration.bootstrap = peers.map { (host: $0.host, port: $0.port) }
        configuration.logger = logger
        configuration.limits.reattestationIntervalMilliseconds = reattestationIntervalMilliseconds
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let mesh = Mesh(configuration: configuration, group: group)
        let port = try await mesh.start()
        emitJSONLine([
            "event": "listening", "identity": Hex.encode(opened.identity.publicKey.compressed),
            "listen": HostPort(host: listen.host, port: port).description,
            "platform": opened.platform.kind.rawValue, "measurement": Hex.encode(opened.platform.measurement),
            "admitted": admitted.count,
        ])
        let stop = SignalStop()
        let events = Task {
            for await event in mesh.events {
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
        let status = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(statusIntervalMilliseconds) * 1_000_000)
                let stats = mesh.statistics
                emitJSONLine([
                    "event": "status", "connected": mesh.connectedPeers.count, "received": stats.receivedMessages,
                    "refused": stats.refusedConnections, "reattestations": stats.reattestationsPassed,
                    "throttled": stats.throttledMessages,
                ])
            }
        }
        let signal = await stop.wait()
        status.cancel()
        emitJSONLine(["event": "stopping", "signal": signal])
        await mesh.stop()
        events.cancel()
        try await group.shutdownGracefully()
    }
}

/// Waits for SIGINT or SIGTERM (handled, not fatal, so the node closes its connections and store cleanly).
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
