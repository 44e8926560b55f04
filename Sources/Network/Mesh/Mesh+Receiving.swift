import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Secp256k1
import WireCodec

extension Mesh {
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
            report(.refused(peer: peer, reason: "rate limit exceeded persistently"))
            channel.close(promise: nil)
            return
        case .accept: break
        }
        let payload = [UInt8](e.payload)
        let hash = [UInt8](e.contentHash)
        switch e.kind {
        case .direct, .broadcast:
            report(
                .message(
                    InboundMessage(
                        from: peer, author: peer, delivery: e.kind == .direct ? .direct : .broadcast, topic: e.topic,
                        sessionID: [UInt8](e.sessionID), payload: payload)))
        case .gossipPush:
            let timeout = UInt64(limits.pendingPullTimeoutMilliseconds) * 1_000_000
            let outcome = state.withLockedValue { s in
                let outcome = s.gossip.offered(hash, by: peer, nowNanoseconds: now, timeoutNanoseconds: timeout)
                if outcome == .overQuota { s.stats.ignoredPushes += 1 }
                return outcome
            }
            if outcome == .pull { send(.gossipPull, payload: [], hash: hash, on: channel) }
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
            report(
                .message(
                    InboundMessage(
                        from: peer, author: nil, delivery: .gossip, topic: e.topic, sessionID: [UInt8](e.sessionID),
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
            receiveAddresses(payload, from: peer, channel: channel)
        case .attestationChallenge:
            answerChallenge(payload, from: peer, channel: channel, now: now)
        case .attestationResponse:
            guard let checker = configuration.attestationChecker,
                let response = try? Darknode_V1_AttestationResponse(serializedBytes: payload)
            else { return }
            let expected = state.withLockedValue { $0.connections[peer]?.challenge?.nonce }
            guard let nonce = expected, [UInt8](response.nonce) == nonce else { return }
            if let reason = checker(peer, response.platform, [UInt8](response.evidence), nonce) {
                report(.evicted(peer, reason: "re-attestation: \(reason)"))
                logger.warning("evicting peer", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
                channel.close(promise: nil)
            } else {
                state.withLockedValue { s in
                    s.stats.reattestationsPassed += 1
                    if var c = s.connections[peer] {
                        c.challenge = nil
                        c.openedNanoseconds = Self.now()
                        s.connections[peer] = c
                    }
                }
            }
        case .unspecified, .UNRECOGNIZED:
            break
        }
    }

    /// Reads the first address message of a connection (later ones are ignored): records only of admitted
    /// identities (checked before the signature, so strangers' records cost nothing), at most
    /// `addressListRecordsMax` of them, into a table capped at `addressRecordsMax`.
    func receiveAddresses(_ payload: [UInt8], from peer: PeerID, channel: any Channel) {
        let limits = configuration.limits
        let first = state.withLockedValue { s -> Bool in
            guard var c = s.connections[peer], c.channel === channel, !c.addressesReceived else {
                s.stats.ignoredAddressMessages += 1
                return false
            }
            c.addressesReceived = true
            s.connections[peer] = c
            return true
        }
        guard first else { return }
        guard let list = try? Darknode_V1_PeerAddressList(serializedBytes: payload) else {
            malformed(peer: peer, channel: channel, error: EnvelopeFrameError.malformedEnvelope)
            return
        }
        let admitted = state.withLockedValue { $0.admitted }
        let nowMs = UInt64(Date().timeIntervalSince1970 * 1000)
        for signed in list.records.prefix(limits.addressListRecordsMax) {
            guard let claimed = PeerID(bytes: signed.signer), claimed != identity, admitted.contains(claimed),
                let record = try? PeerAddressRecord(
                    verifying: signed, nowMilliseconds: nowMs, maximumAge: limits.addressRecordMaximumAgeMilliseconds)
            else { continue }
            state.withLockedValue { s in
                if s.table.records.count < limits.addressRecordsMax || s.table.records[record.peer] != nil {
                    s.table.insert(record)
                }
                if record.peer == peer, s.addressOfPeer[peer] == nil { s.addressOfPeer[peer] = "\(record.host):\(record.port)" }
            }
        }
    }

    /// Answers a peer's attestation challenge at most once per `attestationAnswerIntervalMilliseconds` (or half the
    /// re-attestation interval, if shorter), with the
    /// evidence produced off the event loop (a platform quote can take milliseconds to seconds).
    func answerChallenge(_ nonce: [UInt8], from peer: PeerID, channel: any Channel, now: UInt64) {
        guard nonce.count == 32, let responder = configuration.attestationResponder else { return }
        // Never stricter than half our own challenge interval: the shard's nodes share that setting, so an honest
        // peer challenges once per interval, and a retry after a lost answer still gets through.
        let limits = configuration.limits
        let interval = UInt64(min(limits.attestationAnswerIntervalMilliseconds, limits.reattestationIntervalMilliseconds / 2))
            * 1_000_000
        let due = state.withLockedValue { s -> Bool in
            guard var c = s.connections[peer], c.channel === channel else { return false }
            if let last = c.challengeAnsweredNanoseconds, now &- last < interval {
                s.stats.ignoredChallenges += 1
                return false
            }
            c.challengeAnsweredNanoseconds = now
            s.connections[peer] = c
            return true
        }
        guard due else { return }
        Task.detached { [self] in
            do {
                let (platform, evidence) = try responder(nonce)
                var response = Darknode_V1_AttestationResponse()
                response.nonce = Data(nonce)
                response.platform = platform
                response.evidence = Data(evidence)
                send(.attestationResponse, payload: try response.serializedBytes(), on: channel)
            } catch {
                logger.error("cannot produce evidence for re-attestation", metadata: ["error": "\(error)"])
            }
        }
    }
}
