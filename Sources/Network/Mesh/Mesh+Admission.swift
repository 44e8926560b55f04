import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Secp256k1
import WireCodec

extension Mesh {
    // MARK: Connection set-up

    /// Runs authentication, then admission and de-duplication, then installs the envelope codec. Inbound
    /// connections are refused at once while too many handshakes are in progress, in all or from their source
    /// address: a handshake holds buffers and a timer, and anyone can open connections that never finish one.
    func setUp(channel: any Channel, role: ConnectionRole, address: String?) {
        let limits = configuration.limits
        let source = role == .listener ? (channel.remoteAddress?.ipAddress ?? "unknown") : nil
        if let source {
            let admitted = state.withLockedValue { s -> Bool in
                guard s.handshakes < limits.handshakesInProgressMax,
                    s.handshakesBySource[source, default: 0] < limits.handshakesPerAddressMax
                else {
                    s.stats.refusedConnections += 1
                    s.stats.refusedHandshakes += 1
                    return false
                }
                s.handshakes += 1
                s.handshakesBySource[source, default: 0] += 1
                return true
            }
            guard admitted else {
                channel.close(promise: nil)
                return
            }
        }
        let future = configuration.authenticator.authenticate(channel: channel, role: role)
        future.whenComplete { [self] result in
            if let source {
                state.withLockedValue { s in
                    s.handshakes -= 1
                    let left = s.handshakesBySource[source, default: 1] - 1
                    s.handshakesBySource[source] = left > 0 ? left : nil
                }
            }
            switch result {
            case .failure(let error):
                state.withLockedValue { $0.stats.refusedConnections += 1 }
                reportIfRoom(.refused(peer: nil, reason: "handshake failed: \(error)"))
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
            report(.refused(peer: peer.identity, reason: reason))
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
                    ConnectionVerdictHandler(
                        mesh: self, role: role, peer: peer, address: address,
                        timeout: .milliseconds(configuration.limits.verdictTimeoutMilliseconds)))
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
        applyReadState(channel)
        report(.connected(peer))
        logger.info(
            "peer connected",
            metadata: ["peer": "\(peer.identity)", "platform": "\(peer.platform)", "role": "\(role)"])
        sendAddresses(on: channel)
        channel.pipeline.fireUserInboundEventTriggered(MeshReady(peer: peer))
    }

    /// Called by the peer handler when its channel closes.
    func closed(peer: PeerID, channel: any Channel, reason: String) {
        let timeout = UInt64(configuration.limits.pendingPullTimeoutMilliseconds) * 1_000_000
        let (wasCurrent, retries) = state.withLockedValue { s -> (Bool, [(any Channel, [UInt8])]) in
            guard let current = s.connections[peer], current.channel === channel else { return (false, []) }
            s.connections[peer] = nil
            let moved = s.gossip.dropPending(from: peer, nowNanoseconds: Self.now(), timeoutNanoseconds: timeout)
            return (true, moved.compactMap { pull in s.connections[pull.peer].map { ($0.channel, pull.hash) } })
        }
        for (other, hash) in retries { send(.gossipPull, payload: [], hash: hash, on: other) }
        if wasCurrent {
            report(.disconnected(peer, reason: reason))
            logger.info("peer disconnected", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        }
    }

    /// Called by the peer handler on a malformed frame: typed error, connection closed, process lives.
    func malformed(peer: PeerID, channel: any Channel, error: any Error) {
        state.withLockedValue { $0.stats.refusedConnections += 1 }
        report(.refused(peer: peer, reason: "malformed traffic: \(error)"))
        logger.warning("closing peer after malformed frame", metadata: ["peer": "\(peer)", "error": "\(error)"])
        channel.close(promise: nil)
    }
}
