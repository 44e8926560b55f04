import NIOCore
import NIOPosix

extension Mesh {
    // MARK: Connection set-up

    /// Registers a new TCP channel with the state; its close is reported whatever happens to it later.
    func opened(_ channel: any Channel, role: ConnectionRole, target: DialTarget?) {
        let now = clock.now
        let (id, actions, channels) = core.withLockedValue { c in
            c.lastConnectionID += 1
            let id = ConnectionID(raw: c.lastConnectionID)
            c.channels[id] = channel
            let input: MeshInput =
                role == .listener
                ? .inboundOpened(id, source: channel.remoteAddress?.ipAddress ?? "unknown")
                : .outboundOpened(id, target: target)
            let actions = handle(input, in: &c.state, now: now)
            return (id, actions, c.channels(for: actions))
        }
        channel.closeFuture.whenComplete { [self] _ in
            let now = clock.now
            let (actions, channels) = core.withLockedValue { c in
                c.channels[id] = nil
                let actions = handle(.closed(id), in: &c.state, now: now)
                return (actions, c.channels(for: actions))
            }
            perform(actions, channels)
        }
        perform(actions, channels)
    }

    func authenticate(_ channel: any Channel, _ id: ConnectionID, role: ConnectionRole) {
        configuration.authenticator.authenticate(channel: channel, role: role).whenComplete { [self] result in
            switch result {
            case .failure(let error):
                // Logged with the refusal it is reported as (when the event buffer has room: anyone can cause it).
                run(.authenticationFailed(id, reason: "\(error)"))
            case .success(let peer):
                run(.authenticated(id, peer))
            }
        }
    }

    /// Adds the envelope codec and the peer handler, applies the read state, and completes a waiting dialler.
    func install(_ channel: any Channel, _ id: ConnectionID, peer: AuthenticatedPeer) {
        let maximum = configuration.limits.maximumMessageBytes
        onLoop(channel) { [self] in
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(EnvelopeFrameDecoder(maximumMessageBytes: maximum), maximumBufferSize: maximum + 4),
                MessageToByteHandler(EnvelopeFrameEncoder()),
                PeerHandler(mesh: self, connection: id),
            ])
            applyReadState(channel)
            channel.pipeline.fireUserInboundEventTriggered(MeshReady(peer: peer))
        }
    }

    /// Sets the channel's autoRead to the current state on its event loop. The state is read there, not passed
    /// in, so a pause and a resume issued from different threads cannot land in the wrong order.
    func applyReadState(_ channel: any Channel) {
        channel.eventLoop.execute { [self] in
            let paused = core.withLockedValue { $0.state.readsPaused }
            channel.setOption(ChannelOptions.autoRead, value: !paused).whenFailure { _ in }
        }
    }

    // MARK: Dialling

    /// Dials an address and waits until the connection is authenticated and admitted.
    @discardableResult
    public func connect(host: String, port: Int) async throws -> AuthenticatedPeer {
        try await connect(host: host, port: port, target: nil)
    }

    func connect(host: String, port: Int, target: DialTarget?) async throws -> AuthenticatedPeer {
        // A dial that the timer started just before `stop` must not reach a bootstrap on an event loop group its
        // owner shuts down next (NIO traps on the promise it then leaks).
        guard isRunning else {
            if let target { run(.dialFailed(target)) }
            throw MeshError.notRunning
        }
        let limits = configuration.limits
        let ready = OneShot<AuthenticatedPeer>(on: group.next())
        do {
            _ = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(
                    .writeBufferWaterMark,
                    value: .init(low: limits.outboundQueueBytesPerPeer / 2, high: limits.outboundQueueBytesPerPeer)
                )
                .connectTimeout(TimeAmount(limits.handshakeTimeout))
                .channelInitializer { [self] channel in
                    // The waiter goes in first, so the admission event cannot fire before it is there.
                    do {
                        try channel.pipeline.syncOperations.addHandler(ReadyWaiter(ready: ready))
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                    opened(channel, role: .dialer, target: target)
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                .connect(host: host, port: port).get()
        } catch {
            // TCP never came up (refused, unreachable, timed out): say so, not "handshake failed".
            ready.fail(error)
            if let target { run(.dialFailed(target)) }
            throw error
        }
        return try await ready.future.get()
    }
}
