/// Everything that happens because time passed: verdict waits, liveness, re-attestation, late gossip pulls and
/// redials. The driver calls `tick` from its event loop's scheduler.
extension MeshState {
    mutating func tick(now: ContinuousClock.Instant) -> [MeshAction] {
        var actions: [MeshAction] = []
        guard !stopped else { return actions }
        expirePulls(now: now, into: &actions)
        for id in connections.keys.sorted() {
            guard let record = connections[id] else { continue }
            switch record.phase {
            case .authenticating: break
            case .awaitingVerdict(let deadline):
                if deadline <= now { malformed(id, reason: "\(AuthenticationError.timeout)", into: &actions) }
            case .installed(let health):
                checkHealth(id, health, now: now, into: &actions)
            }
        }
        planner.decay(now: now)
        let due = planner.due(now: now, me: identity, book: addressBook, admitted: admitted) { current[$0] != nil }
        for dial in due { actions.append(.dial(dial.target, host: dial.host, port: dial.port)) }
        return actions
    }

    /// Pulls past their deadline go to the next pusher of the hash, or are forgotten.
    private mutating func expirePulls(now: ContinuousClock.Instant, into actions: inout [MeshAction]) {
        let late = gossip.expire(now: now, timeout: limits.pendingPullTimeout)
        for pull in late {
            if let id = current[pull.peer] { enqueue(envelope(.gossipPull, hash: pull.hash), on: id, into: &actions) }
        }
    }

    /// Liveness: a peer silent for `livenessInterval` is pinged (nonce 0) and dropped if it then stays silent for
    /// `livenessTimeout`. Re-attestation: every `reattestationInterval` a fresh nonce, answered within
    /// `reattestationTimeout` or the peer is evicted.
    private mutating func checkHealth(
        _ id: ConnectionID, _ health: PeerHealth, now: ContinuousClock.Instant, into actions: inout [MeshAction]
    ) {
        guard let peer = connections[id]?.peer?.identity else { return }
        var health = health
        if let probe = health.probeSentAt {
            if now - probe > limits.livenessTimeout {
                closed(id, reason: "peer unresponsive", now: now, into: &actions)
                actions.append(.close(id))
                return
            }
        } else if now - health.lastHeard > limits.livenessInterval {
            health.probeSentAt = now
            enqueue(envelope(.ping, payload: [UInt8](repeating: 0, count: 8)), on: id, into: &actions)
        }
        if let challenge = health.challenge {
            if challenge.deadline < now {
                report(.evicted(peer, reason: "re-attestation: no answer before the deadline"), into: &actions)
                actions.append(.close(id))
            }
        } else if reattestsPeers, now >= health.nextChallengeAt {
            let nonce = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &random) }
            health.challenge = .init(nonce: nonce, deadline: now + limits.reattestationTimeout)
            enqueue(envelope(.attestationChallenge, payload: nonce), on: id, into: &actions)
        }
        if connections[id] != nil { connections[id]!.phase = .installed(health) }
    }
}
