import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One node's endpoint in the shard's full mesh: every connection is authenticated first (EKEP with
/// attestation in production), checked against the admission set, de-duplicated (one connection per pair),
/// rate limited, and re-attested periodically. Offers direct send, broadcast, gossip and sync.
///
/// A thin NIO driver: every decision is made by the pure `MeshState`, which this class feeds with socket and
/// timer callbacks (under one lock) and whose actions it carries out (outside the lock).
public final class Mesh: Sendable {
    public let configuration: MeshConfiguration
    public let identity: PeerID
    /// Everything the mesh reports, in order (one consumer). Bounded: see `MeshEvents`.
    public var events: MeshEvents {
        MeshEvents(stream: stream, taken: { [weak self] event in
            guard let self, self.taken.add(bytes: event.bufferedBytes) else { return }
            self.foldTakenEvents()
        })
    }
    let taken = TakenEvents()
    let stream: AsyncStream<MeshEvent>
    let continuation: AsyncStream<MeshEvent>.Continuation
    let group: MultiThreadedEventLoopGroup
    let clock = ContinuousClock()
    let core: NIOLockedValueBox<Core>

    /// The state and what the driver needs to carry out its actions.
    struct Core {
        var state: MeshState<SystemRandomNumberGenerator>
        var channels: [ConnectionID: any Channel] = [:]
        var lastConnectionID: UInt64 = 0
        var running = false
        var serverChannel: (any Channel)?
        var listenPort = 0
        var timer: RepeatedTask?
        var pings: [UInt64: OneShot<Void>] = [:]

        /// The channels the actions name (all of them when reads pause or resume).
        func channels(for actions: [MeshAction]) -> [ConnectionID: any Channel] {
            var result: [ConnectionID: any Channel] = [:]
            for action in actions {
                if case .setReadsPaused = action { return channels }
                if let id = action.connection, let channel = channels[id] { result[id] = channel }
            }
            return result
        }
    }

    public init(configuration: MeshConfiguration, group: MultiThreadedEventLoopGroup? = nil) {
        self.configuration = configuration
        self.identity = PeerID(configuration.identity.publicKey)
        self.group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        (stream, continuation) = AsyncStream.makeStream(of: MeshEvent.self)
        let state = MeshState(
            identity: identity, limits: configuration.limits, admitted: configuration.admitted,
            admitsAnyAuthenticatedPeer: configuration.admitsAnyAuthenticatedPeer, bootstrap: configuration.bootstrap,
            reattestsPeers: configuration.attestationChecker != nil,
            answersChallenges: configuration.attestationResponder != nil, random: SystemRandomNumberGenerator())
        core = NIOLockedValueBox(Core(state: state))
    }

    var logger: Logger { configuration.logger }

    /// Feeds an input to the state and carries out its actions.
    func run(_ input: MeshInput) {
        let now = clock.now
        let (actions, channels) = core.withLockedValue { c in
            let actions = handle(input, in: &c.state, now: now)
            return (actions, c.channels(for: actions))
        }
        perform(actions, channels)
    }

    /// Handles an input under the lock (see `step`).
    func handle(_ input: MeshInput, in state: inout MeshState<SystemRandomNumberGenerator>, now: ContinuousClock.Instant)
        -> [MeshAction]
    {
        step(&state, now: now) { $0.handle(input, now: now) }
    }

    /// Runs `body` on the state under the lock, after folding in the events the consumer took since the last step,
    /// then tells the consumer whether reads are paused.
    private func step(
        _ state: inout MeshState<SystemRandomNumberGenerator>, now: ContinuousClock.Instant,
        _ body: (inout MeshState<SystemRandomNumberGenerator>) -> [MeshAction]
    ) -> [MeshAction] {
        var actions: [MeshAction] = []
        if let (count, bytes) = taken.drain() { actions = state.handle(.eventsTaken(count: count, bytes: bytes), now: now) }
        let more = body(&state)
        if actions.isEmpty { actions = more } else { actions += more }
        taken.setReadsPaused(state.readsPaused)
        return actions
    }

    /// Folds in the events the consumer took, now (while reads are paused, and before reading statistics).
    func foldTakenEvents() { run(.eventsTaken(count: 0, bytes: 0)) }

    /// Runs `body` on the state (for the public sends), then carries out the actions it produced.
    @discardableResult
    func mutate<T>(_ body: (inout MeshState<SystemRandomNumberGenerator>, inout [MeshAction]) -> T) -> T {
        let (value, actions, channels) = core.withLockedValue { c in
            var actions: [MeshAction] = []
            let value = body(&c.state, &actions)
            return (value, actions, c.channels(for: actions))
        }
        perform(actions, channels)
        return value
    }

    func tick() {
        let now = clock.now
        let (actions, channels) = core.withLockedValue { c in
            let actions = step(&c.state, now: now) { $0.tick(now: now) }
            return (actions, c.channels(for: actions))
        }
        perform(actions, channels)
    }

    // MARK: Lifecycle

    /// Starts listening and the timer that drives redials, liveness and re-attestation. Returns the bound port.
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
                opened(channel, role: .listener, target: nil)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: configuration.host, port: configuration.port).get()
        let port = server.localAddress?.port ?? configuration.port
        let resolution = TimeAmount(limits.timerResolution)
        let timer = group.next().scheduleRepeatedTask(initialDelay: resolution, delay: resolution) { [self] _ in tick() }
        core.withLockedValue {
            $0.running = true
            $0.serverChannel = server
            $0.listenPort = port
            $0.timer = timer
        }
        logger.info("mesh listening", metadata: ["identity": "\(identity)", "port": "\(port)"])
        return port
    }

    var isRunning: Bool { core.withLockedValue { $0.running } }

    /// The port we listen on (after `start`).
    public var listenPort: Int { core.withLockedValue { $0.listenPort } }

    /// Closes every connection and the listener.
    public func stop() async {
        let now = clock.now
        let (server, timer, channels, pings) = core.withLockedValue { c in
            c.running = false
            _ = c.state.handle(.stop, now: now)
            defer {
                c.timer = nil
                c.pings = [:]
            }
            return (c.serverChannel, c.timer, Array(c.channels.values), Array(c.pings.values))
        }
        timer?.cancel()
        for ping in pings { ping.fail(MeshError.notRunning) }
        for channel in channels { try? await channel.close() }
        try? await server?.close()
        continuation.finish()
    }

    /// Replaces the admission set (e.g. at an epoch change); connected peers no longer in it are dropped, and so
    /// are their address records.
    public func updateAdmitted(_ admitted: Set<PeerID>) { run(.admissionChanged(admitted)) }

    /// Peers with an authenticated connection.
    public var connectedPeers: [AuthenticatedPeer] { core.withLockedValue { $0.state.connectedPeers } }

    public var statistics: MeshStatistics {
        foldTakenEvents()
        return core.withLockedValue { $0.state.stats }
    }
}
