import WireCodec

/// The connection registry: handshake slots, admission, the one-connection-per-pair decision, install and close.
extension MeshState {
    mutating func inboundOpened(_ id: ConnectionID, source: String, into actions: inout [MeshAction]) {
        guard !stopped, handshakes.take(source, limits: limits) else {
            stats.refusedConnections += 1
            stats.refusedHandshakes += 1
            actions.append(.close(id))
            return
        }
        connections[id] = ConnectionRecord(role: .listener, source: source, target: nil)
        actions.append(.authenticate(id, .listener))
    }

    mutating func authenticationFailed(
        _ id: ConnectionID, reason: String, now: ContinuousClock.Instant, into actions: inout [MeshAction]
    ) {
        guard let record = connections.removeValue(forKey: id) else { return }
        if let source = record.source { handshakes.release(source) }
        if let target = record.target { planner.failed(target, now: now, random: &random) }
        stats.refusedConnections += 1
        // Anyone can fail a handshake: reported only while the event buffer has room.
        if events.hasRoom(limits: limits) { report(.refused(peer: nil, reason: "handshake failed: \(reason)"), into: &actions) }
        actions.append(.close(id))
    }

    /// Why `peer` may not have a connection now, or nil.
    func refusal(of peer: PeerID) -> String? {
        if stopped { return "mesh stopped" }
        if peer == identity { return "connection to self" }
        if !isAdmitted(peer) { return "identity not in the admission set" }
        return nil
    }

    /// Admission, then the tie-break: the larger identity decides and reserves the connection in this step.
    mutating func authenticated(
        _ id: ConnectionID, peer: AuthenticatedPeer, now: ContinuousClock.Instant, into actions: inout [MeshAction]
    ) {
        guard var record = connections[id], case .authenticating = record.phase else { return }
        if let source = record.source { handshakes.release(source) }
        record.peer = peer
        connections[id] = record
        if let target = record.target { planner.authenticated(target, peer: peer.identity) }
        if let reason = refusal(of: peer.identity) {
            refuse(id, peer: peer.identity, reason: reason, now: now, into: &actions)
            return
        }
        guard peer.identity < identity else {
            guard verdictWaits(of: peer.identity) < limits.verdictWaitsPerPeerMax else {
                refuse(id, peer: peer.identity, reason: "too many connections awaiting the verdict", now: now, into: &actions)
                return
            }
            connections[id]!.phase = .awaitingVerdict(deadline: now + limits.verdictTimeout)
            actions.append(.awaitVerdict(id))
            return
        }
        if let existing = current[peer.identity], let kept = connections[existing]?.peer {
            actions.append(.sendVerdict(id, keep: false))
            dropDuplicate(id, keeping: kept, now: now, into: &actions)
        } else {
            actions.append(.sendVerdict(id, keep: true))
            install(id, peer: peer, now: now, into: &actions)
        }
    }

    private func verdictWaits(of peer: PeerID) -> Int {
        connections.values.count { if case .awaitingVerdict = $0.phase { $0.peer?.identity == peer } else { false } }
    }

    /// The decider's verdict: install (admission re-checked: it may have changed since the handshake) or drop.
    mutating func verdict(_ id: ConnectionID, keep: Bool, now: ContinuousClock.Instant, into actions: inout [MeshAction]) {
        guard let record = connections[id], case .awaitingVerdict = record.phase, let peer = record.peer else { return }
        if let reason = refusal(of: peer.identity) {
            refuse(id, peer: peer.identity, reason: reason, now: now, into: &actions)
        } else if keep {
            install(id, peer: peer, now: now, into: &actions)
        } else if let existing = current[peer.identity], let kept = connections[existing]?.peer {
            dropDuplicate(id, keeping: kept, now: now, into: &actions)
        } else {
            // Dropped in favour of a connection that has not reached us yet (or just closed): nothing to hand over.
            connections[id] = nil
            if let target = record.target { planner.failed(target, now: now, random: &random) }
            actions.append(.close(id))
        }
    }

    private mutating func refuse(
        _ id: ConnectionID, peer: PeerID, reason: String, now: ContinuousClock.Instant, into actions: inout [MeshAction]
    ) {
        let record = connections.removeValue(forKey: id)
        if let target = record?.target { planner.failed(target, now: now, random: &random) }
        stats.refusedConnections += 1
        report(.refused(peer: peer, reason: reason), into: &actions)
        actions.append(.close(id))
    }

    private mutating func dropDuplicate(
        _ id: ConnectionID, keeping kept: AuthenticatedPeer, now: ContinuousClock.Instant, into actions: inout [MeshAction]
    ) {
        let record = connections.removeValue(forKey: id)
        // The back-off is kept (it grows): a peer dialled while connected is not dialled again at once.
        if let target = record?.target { planner.failed(target, now: now, random: &random) }
        actions.append(.closeAsDuplicate(id, keeping: kept))
    }

    /// Makes `id` the connection to `peer` (closing an older one) and starts envelope traffic on it.
    mutating func install(_ id: ConnectionID, peer: AuthenticatedPeer, now: ContinuousClock.Instant, into actions: inout [MeshAction]) {
        let health = PeerHealth(
            installedAt: now, lastHeard: now,
            nextChallengeAt: now + limits.reattestationInterval,
            messageBucket: TokenBucket(
                capacity: limits.messageBurstPerPeer, ratePerSecond: limits.messagesPerSecondPerPeer, now: now),
            byteBucket: TokenBucket(
                capacity: Double(limits.maximumMessageBytes) * 4, ratePerSecond: limits.bytesPerSecondPerPeer,
                now: now))
        connections[id]!.phase = .installed(health)
        if let older = current[peer.identity], older != id {
            // Superseded: forgotten now, so its close reports nothing.
            connections[older] = nil
            actions.append(.close(older))
        }
        current[peer.identity] = id
        if let target = connections[id]!.target { planner.connected(target, peer: peer.identity, now: now) }
        actions.append(.install(id, peer))
        report(.connected(peer), into: &actions)
        let known = addressBook.records.sorted { $0.key < $1.key }.map(\.value).prefix(limits.addressListRecordsMax - 1)
        actions.append(.sendAddresses(id, known: Array(known)))
    }

    /// Forgets a connection. When it was a peer's installed connection: the disconnection is reported, pulls
    /// waiting on it move to other pushers, and the planner schedules a redial.
    mutating func closed(_ id: ConnectionID, reason: String, now: ContinuousClock.Instant, into actions: inout [MeshAction]) {
        guard let record = connections.removeValue(forKey: id) else { return }
        switch record.phase {
        case .authenticating:
            if let source = record.source { handshakes.release(source) }
            if let target = record.target { planner.failed(target, now: now, random: &random) }
        case .awaitingVerdict:
            if let target = record.target { planner.failed(target, now: now, random: &random) }
        case .installed:
            guard let peer = record.peer?.identity, current[peer] == id else { return }
            release(peer, now: now, into: &actions)
            planner.disconnected(peer, now: now, random: &random)
            report(.disconnected(peer, reason: reason), into: &actions)
        }
    }

    /// `peer` has no connection any more: pulls waiting on it move to other pushers.
    private mutating func release(_ peer: PeerID, now: ContinuousClock.Instant, into actions: inout [MeshAction]) {
        current[peer] = nil
        let moved = gossip.dropPending(from: peer, now: now, timeout: limits.pendingPullTimeout)
        for pull in moved {
            if let other = current[pull.peer] { enqueue(envelope(.gossipPull, hash: pull.hash), on: other, into: &actions) }
        }
    }

    /// Malformed traffic: typed reason reported, connection closed, nothing else affected.
    mutating func malformed(_ id: ConnectionID, reason: String, into actions: inout [MeshAction]) {
        guard let record = connections[id] else { return }
        stats.refusedConnections += 1
        report(.refused(peer: record.peer?.identity, reason: "malformed traffic: \(reason)"), into: &actions)
        actions.append(.close(id))
    }

    /// A new admission set: connected peers no longer in it are evicted, and their address records dropped. An
    /// evicted connection is forgotten in this step (like a superseded one): what it delivers before the socket
    /// closes is not read, nothing more is sent on it, and its close reports nothing.
    /// The planner learns of the disconnection before it forgets the peer, so the targets it was dialled through
    /// (a bootstrap address) wait out a back-off and are not left marked connected.
    mutating func admissionChanged(_ set: Set<PeerID>, now: ContinuousClock.Instant, into actions: inout [MeshAction]) {
        admitted = set
        addressBook.removeAll(except: set)
        defer { planner.retain(admitted: set) }
        guard !admitsAnyAuthenticatedPeer else { return }
        for (peer, id) in current.sorted(by: { $0.value < $1.value }) where !set.contains(peer) {
            connections[id] = nil
            release(peer, now: now, into: &actions)
            planner.disconnected(peer, now: now, random: &random)
            report(.evicted(peer, reason: "no longer in the admission set"), into: &actions)
            actions.append(.close(id))
        }
    }

    // MARK: Application sends

    /// Queues a direct message to `peer`.
    mutating func enqueue(_ envelope: Darknode_V1_Envelope, to peer: PeerID, into actions: inout [MeshAction])
        -> Result<Void, MeshError>
    {
        guard let id = current[peer] else { return .failure(.notConnected(peer)) }
        return enqueue(envelope, on: id, into: &actions) ? .success(()) : .failure(.outboundQueueFull(peer))
    }

    /// Queues a message to every installed peer; returns those whose queue was full.
    mutating func enqueueToAll(_ envelope: Darknode_V1_Envelope, into actions: inout [MeshAction]) -> [PeerID] {
        var missed: [PeerID] = []
        for (peer, id) in current where !enqueue(envelope, on: id, into: &actions) { missed.append(peer) }
        return missed
    }
}
