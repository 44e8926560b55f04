import Crypto
import Foundation
import WireCodec

/// Envelopes from installed peers: rate limits, then one case per kind.
extension MeshState {
    mutating func received(
        _ e: Darknode_V1_Envelope, on id: ConnectionID, now: ContinuousClock.Instant, into actions: inout [MeshAction]
    ) {
        // In place (through the dictionary's index): copying the record out and back per envelope cost more than
        // everything else the state does for a message.
        guard let index = connections.index(forKey: id),
            let (peer, throttled) = connections.values[index].heard(payloadBytes: e.payload.count, now: now)
        else { return }
        stats.receivedMessages += 1
        stats.receivedPerPeer[peer, default: 0] += 1
        if let throttled {
            stats.throttledMessages += 1
            stats.throttledPerPeer[peer, default: 0] += 1
            if throttled > limits.throttledMessagesBeforeDisconnect {
                report(.refused(peer: peer, reason: "rate limit exceeded persistently"), into: &actions)
                actions.append(.close(id))
            }
            return
        }
        let hash = [UInt8](e.contentHash)
        switch e.kind {
        case .direct, .broadcast:
            let message = InboundMessage(
                from: peer, author: peer, delivery: e.kind == .direct ? .direct : .broadcast, topic: e.topic,
                sessionID: [UInt8](e.sessionID), payload: [UInt8](e.payload))
            report(.message(message), into: &actions)
        case .gossipPush:
            let outcome = gossip.offered(hash, by: peer, now: now, timeout: limits.pendingPullTimeout)
            if outcome == .overQuota { stats.ignoredPushes += 1 }
            if outcome == .pull { enqueue(envelope(.gossipPull, hash: hash), on: id, into: &actions) }
        case .gossipPull, .syncRequest:
            if let item = gossip.item(hash) {
                let answer = envelope(
                    .gossipContent, payload: item.content, topic: item.topic, session: item.sessionID, hash: hash,
                    author: item.author)
                enqueue(answer, on: id, into: &actions)
            }
        case .gossipContent:
            gossipContent(e, hash: hash, from: peer, on: id, into: &actions)
        case .ping:
            enqueue(envelope(.pong, payload: [UInt8](e.payload)), on: id, into: &actions)
        case .pong:
            guard e.payload.count == 8 else { return }
            let nonce = e.payload.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            // Nonce 0 answers a liveness probe; receiving it was all that mattered.
            if nonce != 0 { actions.append(.completePing(nonce: nonce)) }
        case .peerAddresses:
            peerAddresses([UInt8](e.payload), from: peer, on: id, into: &actions)
        case .attestationChallenge:
            challenged([UInt8](e.payload), on: id, now: now, into: &actions)
        case .attestationResponse:
            guard case .installed(let health) = connections[id]?.phase, let challenge = health.challenge,
                let response = try? Darknode_V1_AttestationResponse(serializedBytes: [UInt8](e.payload)),
                [UInt8](response.nonce) == challenge.nonce
            else { return }
            actions.append(
                .checkAttestation(
                    id, peer: peer, platform: response.platform, evidence: [UInt8](response.evidence),
                    nonce: challenge.nonce))
        case .unspecified, .UNRECOGNIZED:
            break
        }
    }

    /// Content we pulled: stored, delivered without an author (nobody signed the envelope's), re-pushed to the
    /// other neighbours. Unasked content is dropped, so peers can only make us store what we pulled.
    private mutating func gossipContent(
        _ e: Darknode_V1_Envelope, hash: [UInt8], from peer: PeerID, on id: ConnectionID, into actions: inout [MeshAction]
    ) {
        let payload = [UInt8](e.payload)
        guard Array(SHA256.hash(data: payload)) == hash else {
            malformed(id, reason: "\(EnvelopeFrameError.invalidField("content does not match its hash"))", into: &actions)
            return
        }
        guard gossip.isPending(hash) else { return }
        let session = [UInt8](e.sessionID)
        guard gossip.store(hash, .init(content: payload, topic: e.topic, sessionID: session, author: [UInt8](e.sender)))
        else { return }
        let message = InboundMessage(from: peer, author: nil, delivery: .gossip, topic: e.topic, sessionID: session, payload: payload)
        report(.message(message), into: &actions)
        let push = envelope(.gossipPush, topic: e.topic, session: session, hash: hash)
        // In connection order, not the table's (seeded per process), so the same inputs give the same actions.
        for (other, otherID) in current.sorted(by: { $0.value < $1.value }) where other != peer {
            enqueue(push, on: otherID, into: &actions)
        }
    }

    /// The first address message of a connection (later ones are ignored): records only of admitted identities
    /// (checked before the signature, so strangers' records cost nothing), at most `addressListRecordsMax`.
    private mutating func peerAddresses(
        _ payload: [UInt8], from peer: PeerID, on id: ConnectionID, into actions: inout [MeshAction]
    ) {
        guard case .installed(var health) = connections[id]?.phase, !health.addressesReceived else {
            stats.ignoredAddressMessages += 1
            return
        }
        health.addressesReceived = true
        connections[id]!.phase = .installed(health)
        guard let list = try? Darknode_V1_PeerAddressList(serializedBytes: payload) else {
            malformed(id, reason: "\(EnvelopeFrameError.malformedEnvelope)", into: &actions)
            return
        }
        let candidates = list.records.prefix(limits.addressListRecordsMax).filter { signed in
            guard let claimed = PeerID(bytes: signed.signer) else { return false }
            return claimed != identity && admitted.contains(claimed)
        }
        if !candidates.isEmpty { actions.append(.verifyAddresses(id, Array(candidates))) }
    }

    /// Verified records go into the book, which holds at most `addressRecordsMax`.
    mutating func addressesVerified(_ records: [PeerAddressRecord], on id: ConnectionID) {
        for record in records where admitted.contains(record.peer) && record.peer != identity {
            if addressBook.records.count < limits.addressRecordsMax || addressBook.records[record.peer] != nil {
                addressBook.insert(record)
            }
        }
    }

    /// Answers a peer's challenge at most once per `attestationAnswerInterval`, or half our own
    /// re-attestation interval if shorter: the shard's nodes share that setting, so an honest peer challenges once
    /// per interval and a retry after a lost answer still gets through.
    private mutating func challenged(
        _ nonce: [UInt8], on id: ConnectionID, now: ContinuousClock.Instant, into actions: inout [MeshAction]
    ) {
        guard nonce.count == 32, answersChallenges, case .installed(var health) = connections[id]?.phase else { return }
        let interval = min(limits.attestationAnswerInterval, limits.reattestationInterval / 2)
        if let last = health.answeredChallengeAt, now - last < interval {
            stats.ignoredChallenges += 1
            return
        }
        health.answeredChallengeAt = now
        connections[id]!.phase = .installed(health)
        actions.append(.answerChallenge(id, nonce: nonce))
    }

    /// The checker's verdict on the answer to our challenge: a pass schedules the next one, a failure evicts.
    mutating func attestationChecked(
        _ id: ConnectionID, nonce: [UInt8], failure: String?, now: ContinuousClock.Instant,
        into actions: inout [MeshAction]
    ) {
        guard case .installed(var health) = connections[id]?.phase, let peer = connections[id]?.peer?.identity,
            health.challenge?.nonce == nonce
        else { return }
        if let failure {
            report(.evicted(peer, reason: "re-attestation: \(failure)"), into: &actions)
            actions.append(.close(id))
            return
        }
        stats.reattestationsPassed += 1
        health.challenge = nil
        health.nextChallengeAt = now + limits.reattestationInterval
        connections[id]!.phase = .installed(health)
    }

    // MARK: Application gossip and sync

    /// Stores our own content and pushes its hash to every neighbour.
    mutating func originate(
        _ content: [UInt8], hash: [UInt8], topic: String, session: [UInt8], into actions: inout [MeshAction]
    ) {
        gossip.store(hash, .init(content: content, topic: topic, sessionID: session, author: identity.bytes))
        let push = envelope(.gossipPush, topic: topic, session: session, hash: hash)
        for id in current.values.sorted() { enqueue(push, on: id, into: &actions) }
    }

    /// Asks `peers` for content we lack (it arrives as a gossip delivery).
    mutating func requestSync(_ hash: [UInt8], from peers: [PeerID], now: ContinuousClock.Instant, into actions: inout [MeshAction]) {
        let outcomes = peers.map { gossip.offered(hash, by: $0, now: now, timeout: limits.pendingPullTimeout) }
        guard outcomes.contains(.pull) else { return }
        for peer in peers {
            if let id = current[peer] { enqueue(envelope(.syncRequest, hash: hash), on: id, into: &actions) }
        }
    }
}
