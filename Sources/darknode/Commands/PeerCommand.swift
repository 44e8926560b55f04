import ArgumentParser
import Enclave
import Foundation
import Logging
import NIOPosix
import Network
import Secp256k1

/// `darknode peer …`: talk to one peer directly.
struct PeerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer", abstract: "Check a single peer over the attested channel.",
        subcommands: [PeerPingCommand.self])
}

/// `darknode peer ping --data-dir DIR --to HOST:PORT`: dials a node as this node (its sealed identity and its
/// platform's evidence), runs EKEP, checks the peer's attestation against the policy, and measures round trips
/// over the encrypted channel. The peer must admit this node's identity.
///
/// Prints the verified identity, platform and measurement of the peer and the round-trip times; with `--json`,
/// one object: `ok`, `to`, `peer` {`identity`, `platform`, `measurement`}, `connectMilliseconds` (TCP + EKEP +
/// admission), `roundTripMilliseconds` (one per ping) and, on failure, `error`. Exit status 0 only when every
/// ping was answered.
struct PeerPingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping", abstract: "Attested handshake with a peer, then round trips over the encrypted channel.")

    @OptionGroup var node: NodeMeshOptions

    @Option(help: "The peer's address, HOST:PORT.")
    var to: HostPort

    @Option(help: "Number of pings.")
    var count: Int = 3

    @Option(help: "Require the peer's identity key to be this one (compressed secp256k1, hex).")
    var expect: String?

    @Option(name: .customLong("timeout-ms"), help: "Time allowed for the connection and for each ping.")
    var timeoutMilliseconds: Int64 = 5_000

    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be between 1 and 10000") }
        guard timeoutMilliseconds > 0 else { throw ValidationError("--timeout-ms must be positive") }
        if let expect, RunCommand.peerID(expect) == nil {
            throw ValidationError("--expect must be a 33-byte compressed secp256k1 key in hex")
        }
    }

    /// Why a ping fails, in words an operator can act on.
    enum PingFailure: Error, CustomStringConvertible {
        case unreachable(String)
        case handshakeFailed(String)
        case closedByPeer
        case unexpectedIdentity(expected: String, actual: String)
        case noAnswer(Int)

        var description: String {
            switch self {
            case .unreachable(let why): "cannot connect: \(why)"
            case .handshakeFailed(let why): "attested handshake failed: \(why)"
            case .closedByPeer:
                "the peer closed the connection after the handshake: this node's identity is not in its admission set, or this node's evidence is not in its policy"
            case .unexpectedIdentity(let expected, let actual): "the peer's identity is \(actual), expected \(expected)"
            case .noAnswer(let index): "ping \(index + 1) got no answer"
            }
        }
    }

    func run() async throws {
        var logger = Logger(label: "darknode.peer")
        logger.logLevel = .error
        let opened: OpenedNode, baseConfiguration: MeshConfiguration
        do {
            (opened, baseConfiguration) = try node.openNode(logger: logger)
        } catch {
            if json { emitJSONLine(["ok": false, "to": to.description, "error": "cannot open the data directory: \(error)"]) }
            throw error
        }
        defer { try? opened.store.close() }
        var configuration = baseConfiguration
        configuration.logger = logger
        if let expect, let peer = RunCommand.peerID(expect) {
            configuration.admitted = [peer]
        } else {
            configuration.admitsAnyAuthenticatedPeer = true
        }
        configuration.limits.handshakeTimeout = .milliseconds(timeoutMilliseconds)
        // Listen on an ephemeral loopback port only because the mesh always listens; nobody is told of it.
        configuration.port = 0
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let mesh = Mesh(configuration: configuration, group: group)
        try await mesh.start()
        var result: [String: Any] = ["to": to.description]
        var failure: PingFailure?
        var connectError: (any Error)?
        let clock = ContinuousClock()
        let begin = clock.now
        let refusals = Task { () -> (peer: PeerID?, reason: String)? in
            for await event in mesh.events {
                if case .refused(let peer, let reason) = event { return (peer, reason) }
            }
            return nil
        }
        do {
            let peer = try await mesh.connect(host: to.host, port: to.port)
            result["connectMilliseconds"] = Self.milliseconds(clock.now - begin)
            result["peer"] = peer.jsonObject
            var roundTrips: [Double] = []
            for index in 0..<count {
                do {
                    roundTrips.append(Self.milliseconds(try await mesh.ping(peer.identity, timeout: .milliseconds(timeoutMilliseconds))))
                } catch {
                    failure = mesh.connectedPeers.contains { $0.identity == peer.identity } ? .noAnswer(index) : .closedByPeer
                    break
                }
            }
            result["roundTripMilliseconds"] = roundTrips
        } catch {
            connectError = error
        }
        // Stopping ends the event stream, so the refusal watcher returns what it saw (if anything).
        await mesh.stop()
        if let connectError {
            let refusal = await refusals.value
            if !(connectError is AuthenticationError) {
                failure = .unreachable("\(connectError)")
            } else if let refusal, let peer = refusal.peer, let expect {
                failure = .unexpectedIdentity(expected: expect, actual: Hex.encode(peer.bytes))
            } else if let refusal {
                failure = .handshakeFailed(refusal.reason)
            } else {
                failure = .closedByPeer
            }
        }
        try await group.shutdownGracefully()
        result["ok"] = failure == nil
        if let failure { result["error"] = failure.description }
        if json {
            emitJSONLine(result)
        } else {
            if let peer = result["peer"] as? [String: Any] {
                print("peer \(to): identity \(peer["identity"] ?? "?")")
                print("  platform \(peer["platform"] ?? "?")  measurement \(peer["measurement"] ?? "-")")
                print("  connected (TCP + EKEP + admission) in \(result["connectMilliseconds"] ?? "?") ms")
                for (i, rtt) in (result["roundTripMilliseconds"] as? [Double] ?? []).enumerated() {
                    print("  ping \(i + 1): \(rtt) ms")
                }
            }
            if let failure { FileHandle.standardError.write(Data("error: \(failure)\n".utf8)) }
        }
        if failure != nil { throw ExitCode(1) }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let c = duration.components
        return (Double(c.seconds) * 1e3 + Double(c.attoseconds) / 1e15).rounded(toPlaces: 3)
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
