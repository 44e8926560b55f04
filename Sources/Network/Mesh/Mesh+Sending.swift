import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Secp256k1
import WireCodec

extension Mesh {
    // MARK: Sending

    func envelope(_ kind: Darknode_V1_MessageKind, payload: [UInt8], topic: String = "", session: [UInt8] = [], hash: [UInt8] = [], author: [UInt8]? = nil) -> Darknode_V1_Envelope {
        var e = Darknode_V1_Envelope()
        e.version = envelopeVersion
        e.kind = kind
        e.payload = Data(payload)
        e.topic = topic
        e.sessionID = Data(session)
        e.contentHash = Data(hash)
        e.sender = Data(author ?? identity.bytes)
        return e
    }

    func send(_ kind: Darknode_V1_MessageKind, payload: [UInt8], topic: String = "", session: [UInt8] = [], hash: [UInt8] = [], author: [UInt8]? = nil, on channel: any Channel) {
        write(envelope(kind, payload: payload, topic: topic, session: session, hash: hash, author: author), on: channel)
    }

    /// Queues an envelope unless the channel's outbound queue already holds `outboundQueueBytesPerPeer` (slow
    /// peer): then nothing is queued, it is counted, and false is returned for the caller to report. The count is
    /// kept here, when the write is issued, so a burst of sends from another thread sees it at once.
    @discardableResult
    func write(_ envelope: Darknode_V1_Envelope, on channel: any Channel) -> Bool {
        let size = envelope.payload.count + envelope.topic.utf8.count + envelope.sessionID.count
            + envelope.contentHash.count + envelope.sender.count + 16
        let key = ObjectIdentifier(channel)
        let queued = state.withLockedValue { s -> Bool in
            let waiting = s.outboundBytes[key, default: 0]
            // An empty queue takes any message (up to the frame limit), so a small cap never blocks a large one.
            guard waiting == 0 || waiting + size <= configuration.limits.outboundQueueBytesPerPeer else {
                s.stats.droppedOutbound += 1
                return false
            }
            s.outboundBytes[key] = waiting + size
            return true
        }
        guard queued else { return false }
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { [self] _ in
            state.withLockedValue { s in
                let left = s.outboundBytes[key, default: size] - size
                s.outboundBytes[key] = left > 0 ? left : nil
            }
        }
        channel.writeAndFlush(envelope, promise: written)
        return true
    }

    func channel(for peer: PeerID) throws(MeshError) -> any Channel {
        guard let channel = state.withLockedValue({ $0.connections[peer]?.channel }) else { throw .notConnected(peer) }
        return channel
    }

    func checkSize(_ payload: [UInt8]) throws(MeshError) {
        // Envelope overhead (kind, sender, topic, session, hash) is well under 1 KiB.
        guard payload.count + 1024 <= configuration.limits.maximumMessageBytes else { throw .messageTooLarge(payload.count) }
    }

    /// Sends an application message to one peer. Throws `outboundQueueFull` when the peer reads slower than we
    /// send (the message is not queued).
    public func send(_ payload: [UInt8], topic: String, session: [UInt8] = [], to peer: PeerID) throws(MeshError) {
        try checkSize(payload)
        guard write(envelope(.direct, payload: payload, topic: topic, session: session), on: try channel(for: peer)) else {
            throw .outboundQueueFull(peer)
        }
    }

    /// Sends an application message to every connected committee member. Returns the peers whose outbound queue
    /// was full: they did not get it.
    @discardableResult
    public func broadcast(_ payload: [UInt8], topic: String, session: [UInt8] = []) throws(MeshError) -> [PeerID] {
        try checkSize(payload)
        let peers = state.withLockedValue { $0.connections.map { ($0.key, $0.value.channel) } }
        let e = envelope(.broadcast, payload: payload, topic: topic, session: session)
        return peers.filter { !write(e, on: $0.1) }.map(\.0)
    }

    /// Gossips content: stores it, then pushes its hash to every neighbour; they pull what they lack and
    /// re-push, so it reaches peers we are not connected to. Returns the content hash.
    @discardableResult
    public func gossip(_ content: [UInt8], topic: String, session: [UInt8] = []) throws(MeshError) -> [UInt8] {
        try checkSize(content)
        let hash = Array(SHA256.hash(data: content))
        let channels = state.withLockedValue { s -> [any Channel] in
            s.gossip.store(hash, .init(content: content, topic: topic, sessionID: session, author: identity.bytes))
            return s.connections.values.map(\.channel)
        }
        for channel in channels { send(.gossipPush, payload: [], topic: topic, session: session, hash: hash, on: channel) }
        return hash
    }

    /// Asks peers for content we lack by hash (e.g. a block referenced by a commit); it arrives as a gossip
    /// delivery.
    public func requestSync(hash: [UInt8], from peers: [PeerID]) {
        let now = Self.now()
        let timeout = UInt64(configuration.limits.pendingPullTimeoutMilliseconds) * 1_000_000
        let channels = state.withLockedValue { s -> [any Channel] in
            let outcomes = peers.map { s.gossip.offered(hash, by: $0, nowNanoseconds: now, timeoutNanoseconds: timeout) }
            guard outcomes.contains(.pull) else { return [] }
            return peers.compactMap { s.connections[$0]?.channel }
        }
        for channel in channels { send(.syncRequest, payload: [], hash: hash, on: channel) }
    }

    /// Measures a round trip to a connected peer.
    public func ping(_ peer: PeerID, timeoutMilliseconds: Int64 = 5_000) async throws -> Duration {
        let channel = try channel(for: peer)
        var rng = SystemRandomNumberGenerator()
        let nonce = (rng.next() as UInt64) | 1  // 0 is the liveness probe
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                    self.state.withLockedValue { $0.pings[nonce] = c }
                    self.send(.ping, payload: withUnsafeBytes(of: nonce.bigEndian, Array.init), on: channel)
                }
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(timeoutMilliseconds) * 1_000_000)
                let pending = self.state.withLockedValue { $0.pings.removeValue(forKey: nonce) }
                pending?.resume(throwing: MeshError.timeout)
                throw MeshError.timeout
            }
            try await group.next()
            group.cancelAll()
        }
        return clock.now - start
    }

    func sendAddresses(on channel: any Channel) {
        let (port, known) = state.withLockedValue {
            ($0.listenPort, Array($0.table.records.values.prefix(configuration.limits.addressListRecordsMax - 1)))
        }
        guard
            let own = try? PeerAddressRecord.make(
                identity: configuration.identity, host: configuration.host, port: UInt16(port),
                timestampMilliseconds: UInt64(Date().timeIntervalSince1970 * 1000))
        else { return }
        var list = Darknode_V1_PeerAddressList()
        list.records = [own.signed] + known.map(\.signed)
        if let bytes: [UInt8] = try? list.serializedBytes() {
            send(.peerAddresses, payload: bytes, on: channel)
        }
    }
}
