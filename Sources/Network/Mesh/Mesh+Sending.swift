import Crypto
import NIOCore
import WireCodec

extension Mesh {
    // MARK: Sending

    func checkSize(_ payload: [UInt8]) throws(MeshError) {
        // Envelope overhead (kind, sender, topic, session, hash) is well under 1 KiB.
        guard payload.count + 1024 <= configuration.limits.maximumMessageBytes else { throw .messageTooLarge(payload.count) }
    }

    /// Sends an application message to one peer. Throws `outboundQueueFull` when the peer reads slower than we
    /// send (the message is not queued).
    public func send(_ payload: [UInt8], topic: String, session: [UInt8] = [], to peer: PeerID) throws(MeshError) {
        try checkSize(payload)
        let envelope = Darknode_V1_Envelope.mesh(.direct, payload: payload, topic: topic, session: session, author: identity.bytes)
        try mutate { state, actions in state.enqueue(envelope, to: peer, into: &actions) }.get()
    }

    /// Sends an application message to every connected committee member. Returns the peers whose outbound queue
    /// was full: they did not get it.
    @discardableResult
    public func broadcast(_ payload: [UInt8], topic: String, session: [UInt8] = []) throws(MeshError) -> [PeerID] {
        try checkSize(payload)
        let envelope = Darknode_V1_Envelope.mesh(.broadcast, payload: payload, topic: topic, session: session, author: identity.bytes)
        return mutate { state, actions in state.enqueueToAll(envelope, into: &actions) }
    }

    /// Gossips content: stores it, then pushes its hash to every neighbour; they pull what they lack and
    /// re-push, so it reaches peers we are not connected to. Returns the content hash.
    @discardableResult
    public func gossip(_ content: [UInt8], topic: String, session: [UInt8] = []) throws(MeshError) -> [UInt8] {
        try checkSize(content)
        let hash = Array(SHA256.hash(data: content))
        mutate { state, actions in state.originate(content, hash: hash, topic: topic, session: session, into: &actions) }
        return hash
    }

    /// Asks peers for content we lack by hash (e.g. a block referenced by a commit); it arrives as a gossip
    /// delivery.
    public func requestSync(hash: [UInt8], from peers: [PeerID]) {
        let now = clock.now
        mutate { state, actions in state.requestSync(hash, from: peers, now: now, into: &actions) }
    }

    /// Measures a round trip to a connected peer.
    public func ping(_ peer: PeerID, timeout: Duration = .seconds(5)) async throws -> Duration {
        var random = SystemRandomNumberGenerator()
        let nonce = (random.next() as UInt64) | 1  // 0 is the liveness probe
        let loop = group.next()
        let answer = OneShot<Void>(on: loop)
        guard core.withLockedValue({ c in c.running ? { c.pings[nonce] = answer; return true }() : false }) else {
            answer.fail(MeshError.notRunning)
            throw MeshError.notRunning
        }
        let timer = loop.scheduleTask(in: TimeAmount(timeout)) { answer.fail(MeshError.timeout) }
        defer {
            timer.cancel()
            core.withLockedValue { _ = $0.pings.removeValue(forKey: nonce) }
        }
        let start = clock.now
        let payload = withUnsafeBytes(of: nonce.bigEndian, Array.init)
        let queued = mutate { state, actions in state.enqueue(state.envelope(.ping, payload: payload), to: peer, into: &actions) }
        if case .failure(let error) = queued {
            answer.fail(error)
            throw error
        }
        try await answer.future.get()
        return clock.now - start
    }

    // MARK: For the hostile-peer tests

    /// The channel of a peer's installed connection.
    func channel(for peer: PeerID) throws(MeshError) -> any Channel {
        let channel = core.withLockedValue { c in c.state.connection(to: peer).flatMap { c.channels[$0] } }
        guard let channel else { throw .notConnected(peer) }
        return channel
    }

    /// Writes an envelope no honest node would send, bypassing the state (and its outbound accounting).
    func send(
        _ kind: Darknode_V1_MessageKind, payload: [UInt8], topic: String = "", session: [UInt8] = [],
        hash: [UInt8] = [], author: [UInt8]? = nil, on channel: any Channel
    ) {
        let envelope = Darknode_V1_Envelope.mesh(
            kind, payload: payload, topic: topic, session: session, hash: hash, author: author ?? identity.bytes)
        channel.writeAndFlush(envelope, promise: nil)
    }
}
