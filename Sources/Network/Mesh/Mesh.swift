import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Secp256k1
import WireCodec

/// One node's endpoint in the shard's full mesh: every connection is authenticated first (EKEP with
/// attestation in production), checked against the admission set, de-duplicated (one connection per pair),
/// rate limited, and re-attested periodically. Offers direct send, broadcast, gossip and sync.
public final class Mesh: Sendable {
    public let configuration: MeshConfiguration
    public let identity: PeerID
    /// Everything the mesh reports, in order (one consumer). Bounded: see `MeshEvents`.
    public var events: MeshEvents { MeshEvents(stream: stream, taken: { [weak self] in self?.taken($0) }) }
    let stream: AsyncStream<MeshEvent>
    let continuation: AsyncStream<MeshEvent>.Continuation
    let group: MultiThreadedEventLoopGroup
    let state: NIOLockedValueBox<State>

    struct Connection {
        let channel: any Channel
        let role: ConnectionRole
        let peer: AuthenticatedPeer
        var openedNanoseconds: UInt64
        var messageBucket: TokenBucket
        var byteBucket: TokenBucket
        var throttled = 0
        var challenge: (nonce: [UInt8], deadlineNanoseconds: UInt64)?
        var dialer: PeerID
        var lastHeardNanoseconds: UInt64 = 0
        var livenessProbeSentNanoseconds: UInt64?
        /// When we last answered the peer's attestation challenge (answers are rate limited).
        var challengeAnsweredNanoseconds: UInt64?
        /// Whether the peer's address message arrived (one is read per connection).
        var addressesReceived = false
    }

    struct State {
        var running = false
        var serverChannel: (any Channel)?
        var listenPort: Int = 0
        var connections: [PeerID: Connection] = [:]
        var table = PeerTable()
        var gossip: GossipStore
        var backoff: [String: (Backoff, UInt64)] = [:]
        var dialing: Set<String> = []
        var addressOfPeer: [PeerID: String] = [:]
        var stats = MeshStatistics()
        var pings: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var admitted: Set<PeerID>
        var rng = SystemRandomNumberGenerator()
        var tasks: [Task<Void, Never>] = []
        /// Events handed to the consumer and not yet taken, and their payload bytes.
        var eventsAwaiting = 0
        var eventBytesAwaiting = 0
        /// Whether connections are told not to read (the consumer lags).
        var readsPaused = false
        /// Bytes queued and not yet written, per channel.
        var outboundBytes: [ObjectIdentifier: Int] = [:]
        /// Inbound connections authenticating, in all and per source address.
        var handshakes = 0
        var handshakesBySource: [String: Int] = [:]
    }

    public init(configuration: MeshConfiguration, group: MultiThreadedEventLoopGroup? = nil) {
        self.configuration = configuration
        self.identity = PeerID(configuration.identity.publicKey)
        self.group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        (stream, continuation) = AsyncStream.makeStream(of: MeshEvent.self)
        state = NIOLockedValueBox(
            State(
                gossip: GossipStore(
                    capacity: configuration.limits.gossipCacheEntries, pendingCapacity: configuration.limits.pendingPulls,
                    pendingPerPeer: configuration.limits.pendingPullsPerPeer),
                admitted: configuration.admitted))
    }

    var logger: Logger { configuration.logger }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    // MARK: Lifecycle

    /// Starts listening and the background loops (reconnect, re-attestation). Returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        let limits = configuration.limits
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: limits.outboundQueueBytesPerPeer / 2, high: limits.outboundQueueBytesPerPeer)
            )
            .childChannelInitializer { [self] channel in
                self.setUp(channel: channel, role: .listener, address: nil)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: configuration.host, port: configuration.port).get()
        let port = server.localAddress?.port ?? configuration.port
        state.withLockedValue {
            $0.running = true
            $0.serverChannel = server
            $0.listenPort = port
        }
        let maintenance = Task { [self] in
            while !Task.isCancelled, isRunning {
                maintain()
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
        }
        state.withLockedValue { $0.tasks.append(maintenance) }
        logger.info("mesh listening", metadata: ["identity": "\(identity)", "port": "\(port)"])
        return port
    }

    var isRunning: Bool { state.withLockedValue { $0.running } }

    /// The port we listen on (after `start`).
    public var listenPort: Int { state.withLockedValue { $0.listenPort } }

    /// Closes every connection and the listener.
    public func stop() async {
        let (server, channels, tasks, pings) = state.withLockedValue { s in
            s.running = false
            let result = (s.serverChannel, s.connections.values.map(\.channel), s.tasks, s.pings)
            s.connections = [:]
            s.tasks = []
            s.pings = [:]
            return result
        }
        tasks.forEach { $0.cancel() }
        for (_, c) in pings { c.resume(throwing: MeshError.notRunning) }
        for channel in channels { try? await channel.close() }
        try? await server?.close()
        continuation.finish()
    }

    /// Replaces the admission set (e.g. at an epoch change); connected peers no longer in it are dropped, and so
    /// are their address records.
    public func updateAdmitted(_ admitted: Set<PeerID>) {
        let dropped = state.withLockedValue { s -> [(PeerID, any Channel)] in
            s.admitted = admitted
            s.table.removeAll(except: admitted)
            return s.connections.filter { !admitted.contains($0.key) }.map { ($0.key, $0.value.channel) }
        }
        for (peer, channel) in dropped {
            report(.evicted(peer, reason: "no longer in the admission set"))
            channel.close(promise: nil)
        }
    }

    /// Peers with an authenticated connection.
    public var connectedPeers: [AuthenticatedPeer] {
        state.withLockedValue { $0.connections.values.map(\.peer) }
    }

    public var statistics: MeshStatistics { state.withLockedValue { $0.stats } }

    // MARK: Dialling

    /// Dials an address and waits until the connection is authenticated and admitted.
    @discardableResult
    public func connect(host: String, port: Int) async throws -> AuthenticatedPeer {
        // A dial that a maintenance pass started just before `stop` must not reach a bootstrap on an event loop group
        // its owner shuts down next (NIO traps on the promise it then leaks).
        guard isRunning else { throw MeshError.notRunning }
        let limits = configuration.limits
        let key = "\(host):\(port)"
        let ready = group.next().makePromise(of: AuthenticatedPeer.self)
        do {
            _ = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(
                    .writeBufferWaterMark,
                    value: .init(low: limits.outboundQueueBytesPerPeer / 2, high: limits.outboundQueueBytesPerPeer)
                )
                .connectTimeout(.milliseconds(limits.handshakeTimeoutMilliseconds))
                .channelInitializer { [self] channel in
                    // The waiter goes in first, so the admission event cannot fire before it is there.
                    do {
                        try channel.pipeline.syncOperations.addHandler(ReadyWaiter(promise: ready))
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                    self.setUp(channel: channel, role: .dialer, address: key)
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                .connect(host: host, port: port).get()
        } catch {
            // TCP never came up (refused, unreachable, timed out): say so, not "handshake failed".
            ready.fail(error)
            throw error
        }
        return try await ready.futureResult.get()
    }
}
