import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Secp256k1
import WireCodec

/// Something the mesh reports to the node.
public enum MeshEvent: Sendable {
    /// A peer completed authentication and admission; its verified identity.
    case connected(AuthenticatedPeer)
    /// A connection ended (the peer may reconnect).
    case disconnected(PeerID, reason: String)
    /// A connection was refused: failed handshake, not in the admission set, or malformed traffic.
    case refused(peer: PeerID?, reason: String)
    /// A peer failed re-attestation (lapsed or out-of-policy evidence) and was disconnected.
    case evicted(PeerID, reason: String)
    /// An application message.
    case message(InboundMessage)
}

/// An application message delivered by the mesh.
public struct InboundMessage: Sendable {
    public enum Delivery: Sendable { case direct, broadcast, gossip }
    /// The neighbour that handed us the message.
    public let from: PeerID
    /// The original author (differs from `from` for re-gossiped content).
    public let author: PeerID
    public let delivery: Delivery
    public let topic: String
    public let sessionID: [UInt8]
    public let payload: [UInt8]
}

/// Counters for observing the mesh (and for tests of its limits).
public struct MeshStatistics: Sendable {
    public var receivedMessages = 0
    public var throttledMessages = 0
    public var droppedOutbound = 0
    public var refusedConnections = 0
    /// Re-attestation answers that passed the checker.
    public var reattestationsPassed = 0
    public var receivedPerPeer: [PeerID: Int] = [:]
    public var throttledPerPeer: [PeerID: Int] = [:]
}

/// Configuration of one node's mesh endpoint.
public struct MeshConfiguration: Sendable {
    /// The node identity key; its public half is the node's PeerID.
    public var identity: PrivateKey
    public var host: String = "127.0.0.1"
    /// 0 picks a free port.
    public var port: Int = 0
    public var limits = NetworkLimits()
    /// The security handshake every connection runs first (EKEP with attestation in production).
    public var authenticator: any PeerAuthenticator
    /// Peers allowed to connect: the current committee plus admitted candidates. Anyone else is disconnected.
    public var admitted: Set<PeerID>
    /// Admits any peer the authenticator accepts, whatever its identity. Only for diagnostic clients such as
    /// `darknode peer ping`, which learn the peer's identity from its verified attestation; a node never sets it.
    public var admitsAnyAuthenticatedPeer = false
    /// Addresses to dial at start (peer identities are learnt from their handshake).
    public var bootstrap: [(host: String, port: Int)] = []
    /// Produces fresh evidence bound to (our identity, nonce) for re-attestation; nil disables answering.
    public var attestationResponder: (@Sendable (_ nonce: [UInt8]) throws -> (platform: String, evidence: [UInt8]))?
    /// Checks a peer's re-attestation response; returns nil when acceptable, else the rejection reason.
    /// nil disables periodic re-attestation of peers.
    public var attestationChecker: (@Sendable (_ peer: PeerID, _ platform: String, _ evidence: [UInt8], _ nonce: [UInt8]) -> String?)?
    public var logger = Logger(label: "darknode.network")

    public init(identity: PrivateKey, authenticator: any PeerAuthenticator, admitted: Set<PeerID>) {
        self.identity = identity
        self.authenticator = authenticator
        self.admitted = admitted
    }
}

/// Why a mesh operation failed.
public enum MeshError: Error, Equatable, Sendable {
    /// No authenticated connection to that peer.
    case notConnected(PeerID)
    /// The payload exceeds the maximum message size.
    case messageTooLarge(Int)
    /// The mesh is not running.
    case notRunning
    /// A ping got no answer in time.
    case timeout
}

/// One node's endpoint in the shard's full mesh: every connection is authenticated first (EKEP with
/// attestation in production), checked against the admission set, de-duplicated (one connection per pair),
/// rate limited, and re-attested periodically. Offers direct send, broadcast, gossip and sync.
public final class Mesh: Sendable {
    public let configuration: MeshConfiguration
    public let identity: PeerID
    /// Everything the mesh reports, in order.
    public let events: AsyncStream<MeshEvent>
    let continuation: AsyncStream<MeshEvent>.Continuation
    let group: MultiThreadedEventLoopGroup
    let state: NIOLockedValueBox<State>

    struct Connection {
        let channel: any Channel
        let role: ConnectionRole
        let peer: AuthenticatedPeer
        let openedNanoseconds: UInt64
        var messageBucket: TokenBucket
        var byteBucket: TokenBucket
        var throttled = 0
        var challenge: (nonce: [UInt8], deadlineNanoseconds: UInt64)?
        var dialer: PeerID
        var lastHeardNanoseconds: UInt64 = 0
        var livenessProbeSentNanoseconds: UInt64?
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
    }

    public init(configuration: MeshConfiguration, group: MultiThreadedEventLoopGroup? = nil) {
        self.configuration = configuration
        self.identity = PeerID(configuration.identity.publicKey)
        self.group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        (events, continuation) = AsyncStream.makeStream(of: MeshEvent.self)
        state = NIOLockedValueBox(
            State(
                gossip: GossipStore(
                    capacity: configuration.limits.gossipCacheEntries, pendingCapacity: configuration.limits.pendingPulls),
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

    /// Replaces the admission set (e.g. at an epoch change); connected peers no longer in it are dropped.
    public func updateAdmitted(_ admitted: Set<PeerID>) {
        let dropped = state.withLockedValue { s -> [(PeerID, any Channel)] in
            s.admitted = admitted
            return s.connections.filter { !admitted.contains($0.key) }.map { ($0.key, $0.value.channel) }
        }
        for (peer, channel) in dropped {
            continuation.yield(.evicted(peer, reason: "no longer in the admission set"))
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

    /// Periodic work: redial missing peers with back-off, and run re-attestation deadlines.
    func maintain() {
        let now = Self.now()
        var toDial: [(String, Int, String)] = []
        var expired: [(PeerID, any Channel)] = []
        var challenges: [(any Channel, [UInt8])] = []
        var unresponsive: [(PeerID, any Channel)] = []
        var probes: [any Channel] = []
        let limits = configuration.limits
        let checking = configuration.attestationChecker != nil
        state.withLockedValue { s in
            var targets: [(String, Int)] = configuration.bootstrap.map { ($0.host, $0.port) }
            for (peer, record) in s.table.records where s.admitted.contains(peer) && identity < peer {
                targets.append((record.host, Int(record.port)))
            }
            let connectedAddresses = Set(s.connections.keys.compactMap { s.addressOfPeer[$0] })
            for (host, port) in targets {
                let key = "\(host):\(port)"
                if connectedAddresses.contains(key) || s.dialing.contains(key) { continue }
                if let (_, next) = s.backoff[key], next > now { continue }
                s.dialing.insert(key)
                toDial.append((host, port, key))
            }
            for (peer, var connection) in s.connections {
                let silentFor = now &- max(connection.lastHeardNanoseconds, connection.openedNanoseconds)
                if let probe = connection.livenessProbeSentNanoseconds {
                    if now &- probe > UInt64(limits.livenessTimeoutMilliseconds) * 1_000_000 {
                        unresponsive.append((peer, connection.channel))
                    }
                } else if silentFor > UInt64(limits.livenessIntervalMilliseconds) * 1_000_000 {
                    connection.livenessProbeSentNanoseconds = now
                    s.connections[peer] = connection
                    probes.append(connection.channel)
                }
                if let challenge = connection.challenge {
                    if challenge.deadlineNanoseconds < now { expired.append((peer, connection.channel)) }
                } else if checking {
                    let due = connection.openedNanoseconds + UInt64(limits.reattestationIntervalMilliseconds) * 1_000_000
                    if now >= due || connection.openedNanoseconds == 0 {
                        let nonce = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &s.rng) }
                        connection.challenge = (nonce, now + UInt64(limits.reattestationTimeoutMilliseconds) * 1_000_000)
                        s.connections[peer] = connection
                        challenges.append((connection.channel, nonce))
                    }
                }
            }
        }
        for (peer, channel) in expired {
            continuation.yield(.evicted(peer, reason: "re-attestation: no answer before the deadline"))
            logger.warning("evicting peer", metadata: ["peer": "\(peer)", "reason": "re-attestation timeout"])
            channel.close(promise: nil)
        }
        for (channel, nonce) in challenges {
            send(.attestationChallenge, payload: nonce, on: channel)
        }
        for channel in probes {
            // Ping nonce 0 is reserved for liveness probes; any traffic from the peer clears the probe.
            send(.ping, payload: [UInt8](repeating: 0, count: 8), on: channel)
        }
        for (peer, channel) in unresponsive {
            logger.notice("closing unresponsive peer", metadata: ["peer": "\(peer)"])
            closed(peer: peer, channel: channel, reason: "peer unresponsive")
            channel.close(promise: nil)
        }
        for (host, port, key) in toDial {
            Task { [self] in
                do {
                    _ = try await connect(host: host, port: port)
                    state.withLockedValue { s in
                        s.dialing.remove(key)
                        s.backoff[key] = nil
                    }
                } catch {
                    state.withLockedValue { s in
                        s.dialing.remove(key)
                        var (backoff, _) = s.backoff[key] ?? (
                            Backoff(
                                initialMilliseconds: limits.reconnectInitialMilliseconds,
                                maximumMilliseconds: limits.reconnectMaximumMilliseconds, jitter: limits.reconnectJitter), 0
                        )
                        let delay = backoff.nextDelayMilliseconds(using: &s.rng)
                        s.backoff[key] = (backoff, Self.now() + UInt64(delay) * 1_000_000)
                    }
                }
            }
        }
    }

    // MARK: Connection set-up

    /// Runs authentication, then admission and de-duplication, then installs the envelope codec.
    func setUp(channel: any Channel, role: ConnectionRole, address: String?) {
        let future = configuration.authenticator.authenticate(channel: channel, role: role)
        future.whenComplete { [self] result in
            switch result {
            case .failure(let error):
                state.withLockedValue { $0.stats.refusedConnections += 1 }
                continuation.yield(.refused(peer: nil, reason: "handshake failed: \(error)"))
                logger.notice("handshake failed", metadata: ["error": "\(error)"])
                channel.close(promise: nil)
            case .success(let peer):
                admit(channel: channel, role: role, peer: peer, address: address)
            }
        }
    }

    /// Admission, then the one-connection-per-pair rule. The peer with the larger identity decides whether a
    /// new connection is kept (it has no live connection to that peer yet) or dropped, and tells the other
    /// side with one verdict byte before any envelope flows. With one decider per pair the two sides never
    /// keep different connections, so no message is sent on a connection the other side then closes.
    func admit(channel: any Channel, role: ConnectionRole, peer: AuthenticatedPeer, address: String?) {
        let refusal: String? = state.withLockedValue { s in
            guard s.running else { return "mesh stopped" }
            guard peer.identity != identity else { return "connection to self" }
            guard s.admitted.contains(peer.identity) || configuration.admitsAnyAuthenticatedPeer else {
                return "identity not in the admission set"
            }
            return nil
        }
        if let reason = refusal {
            state.withLockedValue { $0.stats.refusedConnections += 1 }
            continuation.yield(.refused(peer: peer.identity, reason: reason))
            logger.notice("refusing peer", metadata: ["peer": "\(peer.identity)", "reason": "\(reason)"])
            channel.close(promise: nil)
            return
        }
        if peer.identity < identity {
            // We decide.
            let existing: AuthenticatedPeer? = state.withLockedValue { s in
                guard let current = s.connections[peer.identity], current.channel.isActive else { return nil }
                return current.peer
            }
            if let existing {
                channel.writeAndFlush(ByteBuffer(bytes: [ConnectionVerdict.drop]), promise: nil)
                drop(channel: channel, existing: existing)
            } else {
                channel.writeAndFlush(ByteBuffer(bytes: [ConnectionVerdict.keep]), promise: nil)
                install(channel: channel, role: role, peer: peer, address: address)
            }
        } else {
            // The peer decides; wait for its verdict byte.
            do {
                try channel.pipeline.syncOperations.addHandler(
                    ConnectionVerdictHandler(mesh: self, role: role, peer: peer, address: address))
            } catch {
                channel.close(promise: nil)
            }
        }
    }

    /// Closes a connection that lost the tie-break; a dialler waiting on it learns the existing connection.
    func drop(channel: any Channel, existing: AuthenticatedPeer?) {
        if let existing { channel.pipeline.fireUserInboundEventTriggered(MeshReady(peer: existing)) }
        channel.close(promise: nil)
    }

    /// Makes `channel` the connection to `peer` (closing any older one) and starts envelope traffic on it.
    func install(channel: any Channel, role: ConnectionRole, peer: AuthenticatedPeer, address: String?) {
        let limits = configuration.limits
        let now = Self.now()
        let dialer = role == .dialer ? identity : peer.identity
        let connection = Connection(
            channel: channel, role: role, peer: peer, openedNanoseconds: now,
            messageBucket: TokenBucket(
                capacity: limits.messageBurstPerPeer, ratePerSecond: limits.messagesPerSecondPerPeer, nowNanoseconds: now),
            byteBucket: TokenBucket(
                capacity: Double(limits.maximumMessageBytes) * 4, ratePerSecond: limits.bytesPerSecondPerPeer,
                nowNanoseconds: now),
            dialer: dialer)
        do {
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(
                    EnvelopeFrameDecoder(maximumMessageBytes: limits.maximumMessageBytes),
                    maximumBufferSize: limits.maximumMessageBytes + 4),
                MessageToByteHandler(EnvelopeFrameEncoder()),
                PeerHandler(mesh: self, peer: peer.identity),
            ])
        } catch {
            channel.close(promise: nil)
            return
        }
        let old = state.withLockedValue { s -> (any Channel)? in
            let previous = s.connections[peer.identity]?.channel
            s.connections[peer.identity] = connection
            if let address { s.addressOfPeer[peer.identity] = address }
            return previous
        }
        old?.close(promise: nil)
        continuation.yield(.connected(peer))
        logger.info(
            "peer connected",
            metadata: ["peer": "\(peer.identity)", "platform": "\(peer.platform)", "role": "\(role)"])
        sendAddresses(on: channel)
        channel.pipeline.fireUserInboundEventTriggered(MeshReady(peer: peer))
    }

    /// Called by the peer handler when its channel closes.
    func closed(peer: PeerID, channel: any Channel, reason: String) {
        let wasCurrent = state.withLockedValue { s -> Bool in
            guard let current = s.connections[peer], current.channel === channel else { return false }
            s.connections[peer] = nil
            s.gossip.dropPending(from: peer)
            return true
        }
        if wasCurrent {
            continuation.yield(.disconnected(peer, reason: reason))
            logger.info("peer disconnected", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        }
    }

    /// Called by the peer handler on a malformed frame: typed error, connection closed, process lives.
    func malformed(peer: PeerID, channel: any Channel, error: any Error) {
        state.withLockedValue { $0.stats.refusedConnections += 1 }
        continuation.yield(.refused(peer: peer, reason: "malformed traffic: \(error)"))
        logger.warning("closing peer after malformed frame", metadata: ["peer": "\(peer)", "error": "\(error)"])
        channel.close(promise: nil)
    }

    // MARK: Sending

    func envelope(_ kind: Darknode_V1_MessageKind, payload: [UInt8], topic: String = "", session: [UInt8] = [], hash: [UInt8] = [], author: [UInt8]? = nil) -> Darknode_V1_Envelope {
        var e = Darknode_V1_Envelope()
        e.version = envelopeVersion
        e.kind = kind
        e.payload = Data(payload)
        e.topic = topic
        e.sessionID = Data(session)
        e.contentHash = Data(hash)
        e.sender = Data(author ?? identity.bytes)
        return e
    }

    func send(_ kind: Darknode_V1_MessageKind, payload: [UInt8], topic: String = "", session: [UInt8] = [], hash: [UInt8] = [], author: [UInt8]? = nil, on channel: any Channel) {
        write(envelope(kind, payload: payload, topic: topic, session: session, hash: hash, author: author), on: channel)
    }

    /// Writes unless the peer's outbound queue is full (slow peer): then the message is dropped and counted, so
    /// a slow peer never holds unbounded memory or delays the others.
    func write(_ envelope: Darknode_V1_Envelope, on channel: any Channel) {
        guard channel.isWritable else {
            state.withLockedValue { $0.stats.droppedOutbound += 1 }
            return
        }
        channel.writeAndFlush(envelope, promise: nil)
    }

    func channel(for peer: PeerID) throws(MeshError) -> any Channel {
        guard let channel = state.withLockedValue({ $0.connections[peer]?.channel }) else { throw .notConnected(peer) }
        return channel
    }

    func checkSize(_ payload: [UInt8]) throws(MeshError) {
        // Envelope overhead (kind, sender, topic, session, hash) is well under 1 KiB.
        guard payload.count + 1024 <= configuration.limits.maximumMessageBytes else { throw .messageTooLarge(payload.count) }
    }

    /// Sends an application message to one peer.
    public func send(_ payload: [UInt8], topic: String, session: [UInt8] = [], to peer: PeerID) throws(MeshError) {
        try checkSize(payload)
        send(.direct, payload: payload, topic: topic, session: session, on: try channel(for: peer))
    }

    /// Sends an application message to every connected committee member.
    public func broadcast(_ payload: [UInt8], topic: String, session: [UInt8] = []) throws(MeshError) {
        try checkSize(payload)
        let channels = state.withLockedValue { $0.connections.values.map(\.channel) }
        let e = envelope(.broadcast, payload: payload, topic: topic, session: session)
        for channel in channels { write(e, on: channel) }
    }

    /// Gossips content: stores it, then pushes its hash to every neighbour; they pull what they lack and
    /// re-push, so it reaches peers we are not connected to. Returns the content hash.
    @discardableResult
    public func gossip(_ content: [UInt8], topic: String, session: [UInt8] = []) throws(MeshError) -> [UInt8] {
        try checkSize(content)
        let hash = Array(SHA256.hash(data: content))
        let channels = state.withLockedValue { s -> [any Channel] in
            s.gossip.store(hash, .init(content: content, topic: topic, sessionID: session, author: identity.bytes))
            return s.connections.values.map(\.channel)
        }
        for channel in channels { send(.gossipPush, payload: [], topic: topic, session: session, hash: hash, on: channel) }
        return hash
    }

    /// Asks peers for content we lack by hash (e.g. a block referenced by a commit); it arrives as a gossip
    /// delivery.
    public func requestSync(hash: [UInt8], from peers: [PeerID]) {
        let channels = state.withLockedValue { s -> [any Channel] in
            guard !s.gossip.has(hash), let first = peers.first, s.gossip.markPending(hash, from: first) else { return [] }
            return peers.compactMap { s.connections[$0]?.channel }
        }
        for channel in channels { send(.syncRequest, payload: [], hash: hash, on: channel) }
    }

    /// Measures a round trip to a connected peer.
    public func ping(_ peer: PeerID, timeoutMilliseconds: Int64 = 5_000) async throws -> Duration {
        let channel = try channel(for: peer)
        var rng = SystemRandomNumberGenerator()
        let nonce = (rng.next() as UInt64) | 1  // 0 is the liveness probe
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                    self.state.withLockedValue { $0.pings[nonce] = c }
                    self.send(.ping, payload: withUnsafeBytes(of: nonce.bigEndian, Array.init), on: channel)
                }
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(timeoutMilliseconds) * 1_000_000)
                let pending = self.state.withLockedValue { $0.pings.removeValue(forKey: nonce) }
                pending?.resume(throwing: MeshError.timeout)
                throw MeshError.timeout
            }
            try await group.next()
            group.cancelAll()
        }
        return clock.now - start
    }

    func sendAddresses(on channel: any Channel) {
        let (port, known) = state.withLockedValue { ($0.listenPort, Array($0.table.records.values)) }
        guard
            let own = try? PeerAddressRecord.make(
                identity: configuration.identity, host: configuration.host, port: UInt16(port),
                timestampMilliseconds: UInt64(Date().timeIntervalSince1970 * 1000))
        else { return }
        var list = Darknode_V1_PeerAddressList()
        list.records = [own.signed] + known.map(\.signed)
        if let bytes: [UInt8] = try? list.serializedBytes() {
            send(.peerAddresses, payload: bytes, on: channel)
        }
    }

    // MARK: Receiving

    /// Handles one envelope from an authenticated, admitted peer (on its channel's event loop).
    func receive(_ e: Darknode_V1_Envelope, from peer: PeerID, channel: any Channel) {
        let now = Self.now()
        let limits = configuration.limits
        enum Verdict { case accept, drop, disconnect }
        let verdict: Verdict = state.withLockedValue { s in
            guard var c = s.connections[peer], c.channel === channel else { return .drop }
            c.lastHeardNanoseconds = now
            c.livenessProbeSentNanoseconds = nil
            s.stats.receivedMessages += 1
            s.stats.receivedPerPeer[peer, default: 0] += 1
            let okCount = c.messageBucket.take(1, nowNanoseconds: now)
            let okBytes = c.byteBucket.take(Double(e.payload.count), nowNanoseconds: now)
            guard okCount && okBytes else {
                c.throttled += 1
                s.stats.throttledMessages += 1
                s.stats.throttledPerPeer[peer, default: 0] += 1
                s.connections[peer] = c
                return c.throttled > limits.throttledMessagesBeforeDisconnect ? .disconnect : .drop
            }
            s.connections[peer] = c
            return .accept
        }
        switch verdict {
        case .drop: return
        case .disconnect:
            continuation.yield(.refused(peer: peer, reason: "rate limit exceeded persistently"))
            channel.close(promise: nil)
            return
        case .accept: break
        }
        let payload = [UInt8](e.payload)
        let hash = [UInt8](e.contentHash)
        switch e.kind {
        case .direct, .broadcast:
            continuation.yield(
                .message(
                    InboundMessage(
                        from: peer, author: peer, delivery: e.kind == .direct ? .direct : .broadcast, topic: e.topic,
                        sessionID: [UInt8](e.sessionID), payload: payload)))
        case .gossipPush:
            let shouldPull = state.withLockedValue { s in !s.gossip.has(hash) && s.gossip.markPending(hash, from: peer) }
            if shouldPull { send(.gossipPull, payload: [], hash: hash, on: channel) }
        case .gossipPull, .syncRequest:
            if let item = state.withLockedValue({ $0.gossip.item(hash) }) {
                send(.gossipContent, payload: item.content, topic: item.topic, session: item.sessionID, hash: hash, author: item.author, on: channel)
            }
        case .gossipContent:
            guard Array(SHA256.hash(data: payload)) == hash else {
                malformed(peer: peer, channel: channel, error: EnvelopeFrameError.invalidField("content does not match its hash"))
                return
            }
            let (isNew, others) = state.withLockedValue { s -> (Bool, [any Channel]) in
                // Unasked content is dropped: peers can only make us store what we pulled.
                guard s.gossip.isPending(hash) else { return (false, []) }
                let stored = s.gossip.store(
                    hash, .init(content: payload, topic: e.topic, sessionID: [UInt8](e.sessionID), author: [UInt8](e.sender)))
                return (stored, s.connections.filter { $0.key != peer }.map(\.value.channel))
            }
            guard isNew else { return }
            let author = PeerID(bytes: e.sender) ?? peer
            continuation.yield(
                .message(
                    InboundMessage(
                        from: peer, author: author, delivery: .gossip, topic: e.topic, sessionID: [UInt8](e.sessionID),
                        payload: payload)))
            for other in others { send(.gossipPush, payload: [], topic: e.topic, session: [UInt8](e.sessionID), hash: hash, on: other) }
        case .ping:
            send(.pong, payload: payload, on: channel)
        case .pong:
            guard payload.count == 8 else { return }
            let nonce = payload.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if nonce == 0 { return }
            state.withLockedValue { $0.pings.removeValue(forKey: nonce) }?.resume()
        case .peerAddresses:
            guard let list = try? Darknode_V1_PeerAddressList(serializedBytes: payload) else {
                malformed(peer: peer, channel: channel, error: EnvelopeFrameError.malformedEnvelope)
                return
            }
            let nowMs = UInt64(Date().timeIntervalSince1970 * 1000)
            for signed in list.records.prefix(1024) {
                guard let record = try? PeerAddressRecord(verifying: signed, nowMilliseconds: nowMs, maximumAge: limits.addressRecordMaximumAgeMilliseconds) else { continue }
                state.withLockedValue { s in
                    if record.peer != identity { s.table.insert(record) }
                    if record.peer == peer, s.addressOfPeer[peer] == nil { s.addressOfPeer[peer] = "\(record.host):\(record.port)" }
                }
            }
        case .attestationChallenge:
            guard payload.count == 32, let responder = configuration.attestationResponder else { return }
            do {
                let (platform, evidence) = try responder(payload)
                var response = Darknode_V1_AttestationResponse()
                response.nonce = Data(payload)
                response.platform = platform
                response.evidence = Data(evidence)
                send(.attestationResponse, payload: try response.serializedBytes(), on: channel)
            } catch {
                logger.error("cannot produce evidence for re-attestation", metadata: ["error": "\(error)"])
            }
        case .attestationResponse:
            guard let checker = configuration.attestationChecker,
                let response = try? Darknode_V1_AttestationResponse(serializedBytes: payload)
            else { return }
            let expected = state.withLockedValue { $0.connections[peer]?.challenge?.nonce }
            guard let nonce = expected, [UInt8](response.nonce) == nonce else { return }
            if let reason = checker(peer, response.platform, [UInt8](response.evidence), nonce) {
                continuation.yield(.evicted(peer, reason: "re-attestation: \(reason)"))
                logger.warning("evicting peer", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
                channel.close(promise: nil)
            } else {
                state.withLockedValue { s in
                    s.stats.reattestationsPassed += 1
                    if var c = s.connections[peer] {
                        c.challenge = nil
                        c = Connection(
                            channel: c.channel, role: c.role, peer: c.peer, openedNanoseconds: Self.now(),
                            messageBucket: c.messageBucket, byteBucket: c.byteBucket, throttled: c.throttled, challenge: nil,
                            dialer: c.dialer)
                        s.connections[peer] = c
                    }
                }
            }
        case .unspecified, .UNRECOGNIZED:
            break
        }
    }
}

/// The decider's one-byte answer on a new connection.
enum ConnectionVerdict {
    static let keep: UInt8 = 1
    static let drop: UInt8 = 0
}

/// On the non-deciding side: waits for the verdict byte, then installs the connection or drops it, and
/// passes on any bytes that followed the verdict.
final class ConnectionVerdictHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let mesh: Mesh
    let role: ConnectionRole
    let peer: AuthenticatedPeer
    let address: String?
    var decided = false

    init(mesh: Mesh, role: ConnectionRole, peer: AuthenticatedPeer, address: String?) {
        self.mesh = mesh
        self.role = role
        self.peer = peer
        self.address = address
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        guard let verdict = buffer.readInteger(as: UInt8.self) else { return }
        decided = true
        switch verdict {
        case ConnectionVerdict.keep:
            mesh.install(channel: context.channel, role: role, peer: peer, address: address)
            if buffer.readableBytes > 0 { context.fireChannelRead(NIOAny(buffer)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case ConnectionVerdict.drop:
            let existing = mesh.state.withLockedValue { $0.connections[peer.identity]?.peer }
            mesh.drop(channel: context.channel, existing: existing)
        default:
            mesh.malformed(peer: peer.identity, channel: context.channel, error: EnvelopeFrameError.invalidField("connection verdict"))
        }
    }
}

/// Fired down the pipeline once a connection is admitted.
struct MeshReady {
    let peer: AuthenticatedPeer
}

/// Completes a `connect` call when the connection is admitted, or fails it when the channel closes first.
final class ReadyWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<AuthenticatedPeer>
    var completed = false
    init(promise: EventLoopPromise<AuthenticatedPeer>) { self.promise = promise }

    func complete(_ result: Result<AuthenticatedPeer, any Error>) {
        guard !completed else { return }
        completed = true
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let ready = event as? MeshReady {
            complete(.success(ready.peer))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(.failure(AuthenticationError.closed))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        complete(.failure(AuthenticationError.closed))
    }
}

/// The last handler of an admitted connection: hands envelopes to the mesh and reports errors and closure.
final class PeerHandler: ChannelInboundHandler {
    typealias InboundIn = Darknode_V1_Envelope
    let mesh: Mesh
    let peer: PeerID

    init(mesh: Mesh, peer: PeerID) {
        self.mesh = mesh
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        mesh.receive(unwrapInboundIn(data), from: peer, channel: context.channel)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is EnvelopeFrameError || error is ByteToMessageDecoderError {
            mesh.malformed(peer: peer, channel: context.channel, error: error)
        } else {
            // Socket errors (reset, timeout) are the network's doing, not the peer's misbehaviour.
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        mesh.closed(peer: peer, channel: context.channel, reason: "connection closed")
        context.fireChannelInactive()
    }
}
