import WireCodec

/// The mesh as a pure value: admission, the connection registry, the dial planner, peer health, gossip and the
/// address book. It does no I/O and reads no clock: the driver (`Mesh`) feeds it inputs with the current instant
/// and carries out the actions it returns, so it can be tested, and simulated, with made-up time and randomness.
///
/// One connection per pair: the peer with the larger identity decides whether a new connection is kept (it has
/// none installed to that peer) or dropped, and reserves it in the same step; the other side installs on the
/// verdict byte, re-checking admission then. With one decider per pair both sides keep the same connection.
struct MeshState<Random: RandomNumberGenerator & Sendable>: Sendable {
    let identity: PeerID
    let limits: NetworkLimits
    /// Diagnostic clients (`darknode peer ping`) admit any authenticated peer; a node never does.
    let admitsAnyAuthenticatedPeer: Bool
    /// Whether we challenge peers to re-attest, and whether we answer their challenges.
    let reattestsPeers: Bool
    let answersChallenges: Bool

    var admitted: Set<PeerID>
    var connections: [ConnectionID: ConnectionRecord] = [:]
    /// The installed connection of each peer.
    var current: [PeerID: ConnectionID] = [:]
    var handshakes = HandshakeSlots()
    var planner: DialPlanner
    var gossip: GossipStore
    var addressBook = PeerTable()
    var events = EventBuffer()
    var stats = MeshStatistics()
    private(set) var stopped = false
    var random: Random

    init(
        identity: PeerID, limits: NetworkLimits, admitted: Set<PeerID>, admitsAnyAuthenticatedPeer: Bool = false,
        bootstrap: [(host: String, port: Int)] = [], reattestsPeers: Bool, answersChallenges: Bool, random: Random
    ) {
        self.identity = identity
        self.limits = limits
        self.admitted = admitted
        self.admitsAnyAuthenticatedPeer = admitsAnyAuthenticatedPeer
        self.reattestsPeers = reattestsPeers
        self.answersChallenges = answersChallenges
        self.planner = DialPlanner(bootstrap: bootstrap, limits: limits)
        self.gossip = GossipStore(
            capacity: limits.gossipCacheEntries, pendingCapacity: limits.pendingPulls,
            pendingPerPeer: limits.pendingPullsPerPeer)
        self.random = random
    }

    /// Feeds one input; returns what the driver must do, in order.
    mutating func handle(_ input: MeshInput, now: ContinuousClock.Instant) -> [MeshAction] {
        var actions: [MeshAction] = []
        switch input {
        case .inboundOpened(let id, let source): inboundOpened(id, source: source, into: &actions)
        case .outboundOpened(let id, let target):
            connections[id] = ConnectionRecord(role: .dialer, source: nil, target: target)
            actions.append(stopped ? .close(id) : .authenticate(id, .dialer))
        case .dialFailed(let target): planner.failed(target, now: now, random: &random)
        case .authenticated(let id, let peer): authenticated(id, peer: peer, now: now, into: &actions)
        case .authenticationFailed(let id, let reason): authenticationFailed(id, reason: reason, now: now, into: &actions)
        case .verdict(let id, let keep): verdict(id, keep: keep, now: now, into: &actions)
        case .received(let id, let envelope): received(envelope, on: id, now: now, into: &actions)
        case .malformed(let id, let reason): malformed(id, reason: reason, into: &actions)
        case .closed(let id): closed(id, reason: "connection closed", now: now, into: &actions)
        case .addressesVerified(let id, let records): addressesVerified(records, on: id)
        case .attestationChecked(let id, let nonce, let failure):
            attestationChecked(id, nonce: nonce, failure: failure, now: now, into: &actions)
        case .eventsTaken(let count, let bytes):
            if events.taken(count: count, bytes: bytes, limits: limits) { actions.append(.setReadsPaused(false)) }
            stats.eventsAwaitingConsumer = events.waiting
        case .admissionChanged(let set): admissionChanged(set, now: now, into: &actions)
        case .stop:
            stopped = true
            actions = connections.keys.sorted().map { .close($0) }
        }
        return actions
    }

    // MARK: Queries

    var connectedPeers: [AuthenticatedPeer] { current.values.compactMap { connections[$0]?.peer } }
    var readsPaused: Bool { events.readsPaused }
    func connection(to peer: PeerID) -> ConnectionID? { current[peer] }

    // MARK: Helpers shared by the concerns

    func isAdmitted(_ peer: PeerID) -> Bool { admitted.contains(peer) || admitsAnyAuthenticatedPeer }

    /// Counts an event as waiting for the consumer and asks the driver to hand it over (and to pause reads when
    /// too much waits).
    mutating func report(_ event: MeshEvent, into actions: inout [MeshAction]) {
        if events.add(bytes: event.bufferedBytes, limits: limits) {
            stats.readPauses += 1
            actions.append(.setReadsPaused(true))
        }
        stats.eventsAwaitingConsumer = events.waiting
        actions.append(.report(event))
    }

    /// Queues an envelope on a connection unless its outbound queue already holds `outboundQueueBytesPerPeer`
    /// (an empty queue takes any message up to the frame limit, so a small cap never blocks a large one).
    @discardableResult
    mutating func enqueue(_ envelope: Darknode_V1_Envelope, on id: ConnectionID, into actions: inout [MeshAction]) -> Bool {
        let size = envelope.queuedBytes
        // A mutating call through the index, so the record is not copied out (this runs for every message sent).
        guard let index = connections.index(forKey: id) else { return false }
        guard connections.values[index].reserveOutbound(size, limit: limits.outboundQueueBytesPerPeer) else {
            stats.droppedOutbound += 1
            return false
        }
        actions.append(.send(id, envelope, bytes: size))
        return true
    }

    /// The driver flushed (or failed to write) `bytes` of a connection's queue.
    mutating func written(_ bytes: Int, on id: ConnectionID) {
        guard let index = connections.index(forKey: id) else { return }
        connections.values[index].releaseOutbound(bytes)
    }

    func envelope(
        _ kind: Darknode_V1_MessageKind, payload: [UInt8] = [], topic: String = "", session: [UInt8] = [],
        hash: [UInt8] = [], author: [UInt8]? = nil
    ) -> Darknode_V1_Envelope {
        .mesh(kind, payload: payload, topic: topic, session: session, hash: hash, author: author ?? identity.bytes)
    }

}
