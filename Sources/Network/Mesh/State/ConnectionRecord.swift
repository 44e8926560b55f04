import Foundation
import WireCodec

/// One connection as the state sees it, from TCP open to close.
struct ConnectionRecord: Sendable {
    enum Phase: Sendable {
        case authenticating
        /// Authenticated; the peer decides and we wait for its verdict byte until the deadline.
        case awaitingVerdict(deadline: ContinuousClock.Instant)
        /// The connection to its peer: envelopes flow.
        case installed(PeerHealth)
    }

    let role: ConnectionRole
    /// The source address of an inbound connection, which holds a handshake slot until authentication ends.
    let source: String?
    /// What the planner dialled this connection for (nil: inbound or an explicit `connect`).
    let target: DialTarget?
    var phase: Phase = .authenticating
    var peer: AuthenticatedPeer?
    /// Bytes written and not yet flushed to the socket (see `NetworkLimits.outboundQueueBytesPerPeer`).
    var outboundBytes = 0

    /// Counts `bytes` into the outbound queue unless it already holds `limit` (an empty queue takes any message up
    /// to the frame limit, so a small cap never blocks a large one).
    mutating func reserveOutbound(_ bytes: Int, limit: Int) -> Bool {
        guard outboundBytes == 0 || outboundBytes + bytes <= limit else { return false }
        outboundBytes += bytes
        return true
    }

    /// `bytes` of the queue were flushed (or failed to write).
    mutating func releaseOutbound(_ bytes: Int) { outboundBytes = max(0, outboundBytes - bytes) }

    /// An envelope arrived: the peer is alive, and the envelope is counted against its rate limits. Nil unless
    /// installed; otherwise the peer and, when a limit refused the envelope, the count of refused envelopes.
    mutating func heard(payloadBytes: Int, now: ContinuousClock.Instant) -> (peer: PeerID, throttled: Int?)? {
        guard case .installed(var health) = phase, let peer = peer?.identity else { return nil }
        health.lastHeard = now
        health.probeSentAt = nil
        let okCount = health.messageBucket.take(1, now: now)
        let okBytes = health.byteBucket.take(Double(payloadBytes), now: now)
        if !(okCount && okBytes) { health.throttled += 1 }
        phase = .installed(health)
        return (peer, okCount && okBytes ? nil : health.throttled)
    }
}

/// What the state tracks about an installed peer: rate limits, liveness and re-attestation.
struct PeerHealth: Sendable {
    struct Challenge: Sendable {
        let nonce: [UInt8]
        let deadline: ContinuousClock.Instant
    }

    let installedAt: ContinuousClock.Instant
    var lastHeard: ContinuousClock.Instant
    /// When we pinged a silent peer; any traffic from it clears this.
    var probeSentAt: ContinuousClock.Instant?
    /// Our outstanding re-attestation challenge, and when the next one is due.
    var challenge: Challenge?
    var nextChallengeAt: ContinuousClock.Instant
    /// When we last answered the peer's challenge (answers are rate limited).
    var answeredChallengeAt: ContinuousClock.Instant?
    /// Whether the peer's address message arrived (one is read per connection).
    var addressesReceived = false
    var messageBucket: TokenBucket
    var byteBucket: TokenBucket
    var throttled = 0
}

/// Events handed to the consumer and not yet taken. Over `eventBufferMessages` or `eventBufferBytes` reads stop
/// everywhere; they resume once the consumer has taken half.
struct EventBuffer: Sendable {
    private(set) var waiting = 0
    private(set) var bytes = 0
    private(set) var readsPaused = false

    /// Counts an event; true when reads must pause now.
    mutating func add(bytes eventBytes: Int, limits: NetworkLimits) -> Bool {
        waiting += 1
        bytes += eventBytes
        guard !readsPaused, waiting >= limits.eventBufferMessages || bytes >= limits.eventBufferBytes else { return false }
        readsPaused = true
        return true
    }

    /// Less than half full: events anyone can cause (failed handshakes) are reported only then, so they cannot
    /// pause reads for the admitted peers.
    func hasRoom(limits: NetworkLimits) -> Bool {
        waiting < limits.eventBufferMessages / 2 && bytes < limits.eventBufferBytes / 2
    }

    /// The consumer took `count` events; true when reads must resume now.
    mutating func taken(count: Int, bytes eventBytes: Int, limits: NetworkLimits) -> Bool {
        waiting = max(0, waiting - count)
        bytes = max(0, bytes - eventBytes)
        guard readsPaused, waiting <= limits.eventBufferMessages / 2, bytes <= limits.eventBufferBytes / 2 else {
            return false
        }
        readsPaused = false
        return true
    }
}

/// Inbound connections still authenticating, in all and per source address: a handshake holds buffers and a
/// timer, and anyone can open connections that never finish one.
struct HandshakeSlots: Sendable {
    private(set) var inProgress = 0
    private var bySource: [String: Int] = [:]

    mutating func take(_ source: String, limits: NetworkLimits) -> Bool {
        guard inProgress < limits.handshakesInProgressMax, bySource[source, default: 0] < limits.handshakesPerAddressMax
        else { return false }
        inProgress += 1
        bySource[source, default: 0] += 1
        return true
    }

    mutating func release(_ source: String) {
        inProgress -= 1
        let left = bySource[source, default: 1] - 1
        bySource[source] = left > 0 ? left : nil
    }
}

extension MeshEvent {
    /// Payload bytes the event holds while it waits for the consumer.
    var bufferedBytes: Int {
        if case .message(let m) = self { m.payload.count } else { 0 }
    }
}

extension Darknode_V1_Envelope {
    /// An envelope as the mesh sends it; `author` is our identity except for gossip we relay (it keeps the original).
    static func mesh(
        _ kind: Darknode_V1_MessageKind, payload: [UInt8], topic: String = "", session: [UInt8] = [],
        hash: [UInt8] = [], author: [UInt8]
    ) -> Darknode_V1_Envelope {
        var e = Darknode_V1_Envelope()
        e.version = envelopeVersion
        e.kind = kind
        e.payload = .init(payload)
        e.topic = topic
        e.sessionID = .init(session)
        e.contentHash = .init(hash)
        e.sender = .init(author)
        return e
    }

    /// The bytes it occupies in an outbound queue (frame overhead included, approximately).
    var queuedBytes: Int { payload.count + topic.utf8.count + sessionID.count + contentHash.count + sender.count + 16 }
}
