import Foundation
import MeshTestKit
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
@testable import Network
import Secp256k1
import SecureChannel
import Testing
import WireCodec

/// The mesh over real loopback sockets, with the unattested test handshake (the EKEP tests cover attestation).
@Suite(.serialized) struct MeshTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    @Test func broadcastsArriveExactlyOnceAtEveryPeer() async throws {
        let nodes = try await startMeshes(count: 5, group: group)
        try await connectFullMesh(nodes)
        #expect(await eventually { nodes.allSatisfy { $0.mesh.connectedPeers.count == 4 } })
        let perNode = 50
        for (i, node) in nodes.enumerated() {
            for k in 0..<perNode { try node.mesh.broadcast(Array("m-\(i)-\(k)".utf8), topic: "test") }
        }
        // A fence after the messages: each connection delivers in order, so once a node has every other node's
        // fence it has everything those nodes sent before it — a duplicate included — with no fixed sleep.
        for node in nodes { try node.mesh.broadcast(Array("fence".utf8), topic: "fence") }
        #expect(await eventually { nodes.allSatisfy { $0.log.messages.filter { $0.topic == "fence" }.count == 4 } },
                "every node received the four other fences")
        for (i, node) in nodes.enumerated() {
            let payloads = node.log.messages.filter { $0.topic == "test" }.map { String(decoding: $0.payload, as: UTF8.self) }
            let expected = Set(nodes.indices.filter { $0 != i }.flatMap { j in (0..<perNode).map { "m-\(j)-\($0)" } })
            var copies: [String: Int] = [:]
            for payload in payloads { copies[payload, default: 0] += 1 }
            #expect(Set(copies.keys) == expected, "node \(i) got exactly the other nodes' messages, by identity (no echo, none missing)")
            #expect(copies.values.allSatisfy { $0 == 1 }, "node \(i): none twice")
        }
        for node in nodes { await node.mesh.stop() }
    }

    @Test func directMessagesReachOnlyTheirTarget() async throws {
        let nodes = try await startMeshes(count: 3, group: group)
        try await connectFullMesh(nodes)
        #expect(await eventually { nodes.allSatisfy { $0.mesh.connectedPeers.count == 2 } })
        try nodes[0].mesh.send([1, 2, 3], topic: "direct", session: [9], to: nodes[2].id)
        #expect(await eventually { nodes[2].log.messages.count == 1 })
        let message = nodes[2].log.messages[0]
        #expect(message.payload == [1, 2, 3] && message.sessionID == [9] && message.delivery == .direct)
        #expect(message.from == nodes[0].id)
        #expect(nodes[1].log.messages.isEmpty)
        let stranger = PeerID(PrivateKey.generate().publicKey)
        #expect(throws: MeshError.notConnected(stranger)) {
            try nodes[0].mesh.send([1], topic: "x", to: stranger)
        }
        for node in nodes { await node.mesh.stop() }
    }

    @Test func gossipReachesPeersBeyondNeighboursOnce() async throws {
        // A line A – B – C: C is not connected to A, yet receives A's gossip once, via B.
        let nodes = try await startLineOfThree(group: group)
        try await nodes[0].mesh.connect(host: "127.0.0.1", port: nodes[1].mesh.listenPort)
        try await nodes[1].mesh.connect(host: "127.0.0.1", port: nodes[2].mesh.listenPort)
        #expect(await eventually { nodes[1].mesh.connectedPeers.count == 2 })
        let content = Array("block 17".utf8)
        try nodes[0].mesh.gossip(content, topic: "block")
        #expect(await eventually { nodes[2].log.messages.count == 1 })
        // A second gossip as a fence: it travels the same connections after the first, so once it is in, a second
        // copy of the first would be too.
        try nodes[0].mesh.gossip(Array("fence".utf8), topic: "fence")
        #expect(await eventually { nodes[2].log.messages.contains { $0.topic == "fence" } }, "the fence reached C")
        let blocks = nodes[2].log.messages.filter { $0.topic == "block" }
        #expect(blocks.count == 1 && blocks.first?.payload == content, "C got A's gossip once")
        #expect(blocks.first?.author == nil, "gossip names no author it cannot vouch for")
        #expect(blocks.first?.from == nodes[1].id)
        #expect(nodes[1].log.messages.filter { $0.topic == "block" }.count == 1)
        #expect(nodes[0].log.messages.isEmpty)
        for node in nodes { await node.mesh.stop() }
    }

    /// `requestSync`: a node that missed gossiped content (it joined later) asks a peer for it by hash and gets it
    /// once, as a gossip delivery; a hash nobody holds brings nothing.
    @Test func requestSyncFetchesMissedContentByHashOnce() async throws {
        // A line A – B – C, so C can only get A's content from B.
        let nodes = try await startLineOfThree(group: group)
        try await nodes[0].mesh.connect(host: "127.0.0.1", port: nodes[1].mesh.listenPort)
        #expect(await eventually { nodes[1].mesh.connectedPeers.count == 1 })
        let content = Array("block 18".utf8)
        let hash = try nodes[0].mesh.gossip(content, topic: "block")
        #expect(await eventually { nodes[1].log.messages.contains { $0.payload == content } }, "B holds the content")
        // C joins after the gossip and connects to B only.
        try await nodes[2].mesh.connect(host: "127.0.0.1", port: nodes[1].mesh.listenPort)
        #expect(await eventually { nodes[2].mesh.connectedPeers.count == 1 && nodes[1].mesh.connectedPeers.count == 2 })
        #expect(nodes[2].log.messages.isEmpty, "gossip is not replayed to a newcomer unasked")
        nodes[2].mesh.requestSync(hash: [UInt8](repeating: 0xEE, count: 32), from: [nodes[1].id])
        nodes[2].mesh.requestSync(hash: hash, from: [nodes[1].id])
        #expect(await eventually { nodes[2].log.messages.contains { $0.payload == content } }, "C received the content it asked for")
        // Fence: a later direct message from B follows anything B sent C before it.
        try nodes[1].mesh.send([9], topic: "fence", to: nodes[2].id)
        #expect(await eventually { nodes[2].log.messages.contains { $0.topic == "fence" } })
        let received = nodes[2].log.messages.filter { $0.topic != "fence" }
        #expect(received.count == 1, "only the content asked for, once (the unknown hash brought nothing)")
        #expect(received.first?.payload == content && received.first?.topic == "block" && received.first?.delivery == .gossip)
        for node in nodes { await node.mesh.stop() }
    }

    @Test func peersOutsideTheAdmissionSetAreRefused() async throws {
        let nodes = try await startMeshes(count: 2, group: group)
        let outsiderKey = PrivateKey.generate()
        var config = MeshConfiguration(
            identity: outsiderKey, authenticator: UnattestedTestAuthenticator(identity: outsiderKey, enabledForTesting: true),
            admitted: Set(nodes.map(\.id)))
        config.port = 0
        let outsider = Mesh(configuration: config, group: group)
        try await outsider.start()
        // The outsider may see its side complete before the member's refusal closes the connection.
        _ = try? await outsider.connect(host: "127.0.0.1", port: nodes[0].mesh.listenPort)
        #expect(await eventually { nodes[0].log.refusals.contains { $0.contains("admission") } })
        #expect(await eventually { outsider.connectedPeers.isEmpty })
        #expect(nodes[0].mesh.connectedPeers.allSatisfy { $0.identity != outsider.identity })
        await outsider.stop()
        for node in nodes { await node.mesh.stop() }
    }

    @Test func theUnattestedHandshakeRefusesUnlessSwitchedOnForTests() async throws {
        let keys = [PrivateKey.generate(), PrivateKey.generate()]
        let nodes = try await startMeshes(count: 2, keys: keys, group: group) { config, i in
            if i == 1 {
                config.authenticator = UnattestedTestAuthenticator(identity: keys[1], enabledForTesting: false)
            }
        }
        await #expect(throws: (any Error).self) {
            try await nodes[1].mesh.connect(host: "127.0.0.1", port: nodes[0].mesh.listenPort)
        }
        #expect(nodes[1].mesh.connectedPeers.isEmpty)
        for node in nodes { await node.mesh.stop() }
    }

    @Test func simultaneousDialsLeaveOneConnectionPerPair() async throws {
        let nodes = try await startMeshes(count: 2, group: group)
        async let a: AuthenticatedPeer? = try? nodes[0].mesh.connect(host: "127.0.0.1", port: nodes[1].mesh.listenPort)
        async let b: AuthenticatedPeer? = try? nodes[1].mesh.connect(host: "127.0.0.1", port: nodes[0].mesh.listenPort)
        _ = await (a, b)
        #expect(await eventually { nodes[0].mesh.connectedPeers.count == 1 && nodes[1].mesh.connectedPeers.count == 1 },
                "both sides settled on a connection")
        // One connection, not two: a broadcast arrives once, and a fence sent after it proves nothing else follows.
        try nodes[0].mesh.broadcast([7], topic: "t")
        try nodes[0].mesh.broadcast([8], topic: "fence")
        #expect(await eventually { nodes[1].log.messages.contains { $0.topic == "fence" } }, "the fence arrived")
        #expect(nodes[1].log.messages.filter { $0.topic == "t" }.count == 1)
        #expect(nodes[0].mesh.connectedPeers.count == 1 && nodes[1].mesh.connectedPeers.count == 1)
        for node in nodes { await node.mesh.stop() }
    }

    @Test func aFloodingPeerIsThrottledWhileOthersKeepTheirThroughput() async throws {
        var limits = NetworkLimits()
        limits.messagesPerSecondPerPeer = 500
        limits.messageBurstPerPeer = 200
        limits.throttledMessagesBeforeDisconnect = .max
        let nodes = try await startMeshes(count: 3, limits: limits, group: group)
        try await connectFullMesh(nodes)
        #expect(await eventually { nodes.allSatisfy { $0.mesh.connectedPeers.count == 2 } })
        let flooder = nodes[1], honest = nodes[2], victim = nodes[0]
        for k in 0..<5_000 { try flooder.mesh.send(Array("flood \(k)".utf8), topic: "flood", to: victim.id) }
        for k in 0..<100 { try honest.mesh.send(Array("honest \(k)".utf8), topic: "honest", to: victim.id) }
        #expect(await eventually { victim.log.messages.filter { $0.topic == "honest" }.count == 100 })
        let stats = victim.mesh.statistics
        #expect((stats.throttledPerPeer[flooder.id] ?? 0) > 0)
        #expect((stats.throttledPerPeer[honest.id] ?? 0) == 0)
        #expect(victim.log.messages.filter { $0.topic == "flood" }.count < 5_000)
        for node in nodes { await node.mesh.stop() }
    }

    @Test func malformedFramesFromAnAuthenticatedPeerCloseOnlyThatConnection() async throws {
        let key = PrivateKey.generate()
        let nodes = try await startMeshes(count: 2, admittedExtra: [PeerID(key.publicKey)], group: group)
        try await connectFullMesh(nodes)
        let garbageFrames: [[UInt8]] = [
            [0, 0, 0, 3, 0xFF, 0xFF, 0xFF],  // not a protobuf
            [0xFF, 0xFF, 0xFF, 0xFF],  // oversize length prefix
            try { () throws -> [UInt8] in  // version 2
                var e = Darknode_V1_Envelope()
                e.version = 2
                e.kind = .direct
                let body: [UInt8] = try e.serializedBytes()
                return [0, 0, 0, UInt8(body.count)] + body
            }(),
            try { () throws -> [UInt8] in  // gossip with a 5-byte hash
                var e = Darknode_V1_Envelope()
                e.version = 1
                e.kind = .gossipPush
                e.contentHash = Data([1, 2, 3, 4, 5])
                let body: [UInt8] = try e.serializedBytes()
                return [0, 0, 0, UInt8(body.count)] + body
            }(),
        ]
        for (index, frame) in garbageFrames.enumerated() {
            let before = nodes[0].log.refusals.count
            let authenticated = NIOLockedValueBox<EventLoopFuture<AuthenticatedPeer>?>(nil)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    authenticated.withLockedValue {
                        $0 = UnattestedTestAuthenticator(identity: key, enabledForTesting: true).authenticate(channel: channel, role: .dialer)
                    }
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                .connect(host: "127.0.0.1", port: nodes[0].mesh.listenPort).get()
            _ = try await authenticated.withLockedValue { $0! }.get()
            // The larger identity of a pair sends the one-byte connection verdict first (1 = keep).
            let verdict: [UInt8] = PeerID(key.publicKey) > nodes[0].id ? [1] : []
            try await channel.writeAndFlush(ByteBuffer(bytes: verdict + frame))
            #expect(await eventually { nodes[0].log.refusals.count > before }, "frame \(index)")
            #expect(await eventually { !channel.isActive }, "frame \(index) closes the connection")
        }
        // The node lives and its other connection still works.
        try nodes[1].mesh.broadcast([42], topic: "alive")
        #expect(await eventually { nodes[0].log.messages.contains { $0.payload == [42] } })
        for node in nodes { await node.mesh.stop() }
    }

    @Test func aRestartedNodeIsRedialledAndTrafficResumes() async throws {
        let keys = (0..<3).map { _ in PrivateKey.generate() }
        var nodes = try await startMeshes(count: 3, keys: keys, group: group)
        try await connectFullMesh(nodes)
        #expect(await eventually { nodes.allSatisfy { $0.mesh.connectedPeers.count == 2 } })
        // Wait until the others hold node 2's signed address (they redial it from there), then kill node 2 and bring
        // it back on the same port.
        let reborn2 = nodes[2].id
        #expect(await eventually {
            nodes[0...1].allSatisfy { node in node.mesh.core.withLockedValue { $0.state.addressBook.address(of: reborn2) != nil } }
        }, "nodes 0 and 1 learned node 2's address")
        let port = nodes[2].mesh.listenPort
        await nodes[2].mesh.stop()
        #expect(await eventually { nodes[0].mesh.connectedPeers.count == 1 && nodes[1].mesh.connectedPeers.count == 1 })
        var config = MeshConfiguration(
            identity: keys[2], authenticator: UnattestedTestAuthenticator(identity: keys[2], enabledForTesting: true),
            admitted: Set(keys.map { PeerID($0.publicKey) }))
        config.port = port
        let reborn = Mesh(configuration: config, group: group)
        let log = EventLog(reborn)
        try await reborn.start()
        nodes[2] = TestNode(key: keys[2], mesh: reborn, log: log)
        // Peers whose identity is smaller than node 2's redial it from their tables; the reborn node dials
        // nobody here, so for the pairs where it is the smaller one we dial by hand as a bootstrap would.
        for i in 0..<2 where nodes[2].id < nodes[i].id {
            try await reborn.connect(host: "127.0.0.1", port: nodes[i].mesh.listenPort)
        }
        // Both sides of each new connection must have installed it before the broadcast, or it can miss one.
        #expect(await eventually { nodes.allSatisfy { $0.mesh.connectedPeers.count == 2 } })
        try nodes[0].mesh.broadcast([5], topic: "after")
        #expect(await eventually { log.messages.contains { $0.payload == [5] } })
        for node in nodes { await node.mesh.stop() }
    }

    @Test func pingMeasuresARoundTrip() async throws {
        let nodes = try await startMeshes(count: 2, group: group)
        try await connectFullMesh(nodes)
        #expect(await eventually { nodes[0].mesh.connectedPeers.count == 1 })
        let rtt = try await nodes[0].mesh.ping(nodes[1].id)
        #expect(rtt > .zero)
        for node in nodes { await node.mesh.stop() }
    }

    @Test func failedReattestationEvictsThePeer() async throws {
        var limits = NetworkLimits()
        limits.reattestationInterval = .milliseconds(50)
        limits.reattestationTimeout = .seconds(2)
        let nodes = try await startMeshes(count: 2, limits: limits, group: group) { config, i in
            config.attestationResponder = { nonce in ("simulated", nonce + [UInt8(i)]) }
            // Node 0 accepts only evidence that echoes the nonce followed by 0: node 1's "lapses".
            config.attestationChecker = { _, _, evidence, nonce in evidence == nonce + [0] ? nil : "evidence out of policy" }
        }
        // Dial directly: the eviction may come before both sides have seen the connection.
        try await nodes[0].mesh.connect(host: "127.0.0.1", port: nodes[1].mesh.listenPort)
        #expect(await eventually { nodes[0].log.evictions.contains { $0.contains("out of policy") } })
        #expect(await eventually { nodes[0].mesh.connectedPeers.isEmpty })
        for node in nodes { await node.mesh.stop() }
    }
}

@Suite struct PeerRecordTests {
    @Test func addressRecordsAreSignedAndNewestWins() throws {
        let key = PrivateKey.generate()
        let old = try PeerAddressRecord.make(identity: key, host: "127.0.0.1", port: 1000, timestampMilliseconds: 1_000)
        let new = try PeerAddressRecord.make(identity: key, host: "127.0.0.1", port: 2000, timestampMilliseconds: 2_000)
        var table = PeerTable()
        let insertedNew = table.insert(new)
        let insertedOld = table.insert(old)
        #expect(insertedNew && !insertedOld)
        #expect(table.address(of: PeerID(key.publicKey))?.port == 2000)
        // Tampered host: signature fails.
        var tampered = new.signed
        tampered.payload[tampered.payload.startIndex + 40] ^= 1
        #expect(throws: PeerAddressError.self) {
            try PeerAddressRecord(verifying: tampered, nowMilliseconds: 2_000, maximumAge: .seconds(10))
        }
        // A record older than the maximum age is refused.
        #expect(throws: PeerAddressError.stale) {
            try PeerAddressRecord(verifying: old.signed, nowMilliseconds: 100_000, maximumAge: .seconds(10))
        }
    }

    @Test func aNodeCannotSignAnotherNodesAddress() throws {
        let mallory = PrivateKey.generate(), alice = PrivateKey.generate()
        var address = Darknode_V1_PeerAddress()
        address.identityKey = Data(alice.publicKey.compressed)
        address.host = "10.0.0.66"
        address.port = 1
        address.timestampMs = 5
        let forged = try Darknode_V1_SignedPayload.signing(address, domain: PeerAddressRecord.domain, with: mallory)
        #expect(throws: PeerAddressError.signerMismatch) {
            try PeerAddressRecord(verifying: forged, nowMilliseconds: 5, maximumAge: .seconds(1))
        }
    }

    @Test func backoffGrowsWithJitterAndCaps() {
        var rng = SystemRandomNumberGenerator()
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1), jitter: 0.5)
        let delays = (0..<8).map { _ in backoff.nextDelay(using: &rng) }
        #expect(delays[0] >= .milliseconds(50) && delays[0] <= .milliseconds(100))
        #expect(delays[3] >= .milliseconds(400) && delays[3] <= .milliseconds(800))
        #expect(delays.allSatisfy { $0 <= .seconds(1) })
    }

    @Test func tokenBucketRefillsAtItsRate() {
        let start = ContinuousClock.now
        var bucket = TokenBucket(capacity: 10, ratePerSecond: 100, now: start)
        var taken = 0
        for _ in 0..<11 where bucket.take(now: start) { taken += 1 }
        #expect(taken == 10)
        let refilled = bucket.take(now: start + .milliseconds(10))  // 10 ms → 1 token
        let empty = !bucket.take(now: start + .milliseconds(10))
        #expect(refilled && empty)
    }
}

/// The mesh over EKEP with simulated attestation: the production path, minus real hardware.
@Suite(.serialized) struct AttestedMeshTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    static let release = [UInt8](repeating: 0xAB, count: 32)

    func node(_ key: PrivateKey, measurement: [UInt8], admitted: Set<PeerID>) throws -> Mesh {
        let policy = MeasurementAllowListPolicy(allowedMeasurements: [Self.release], allowSimulation: true)
        let authenticator = try EKEPAuthenticator.simulated(
            identity: key, measurement: measurement, platformKey: PrivateKey.generate(), policy: policy)
        return Mesh(configuration: MeshConfiguration(identity: key, authenticator: authenticator, admitted: admitted), group: group)
    }

    @Test func attestedPeersExchangeBroadcastsAndLearnEachOthersMeasurement() async throws {
        let keys = (0..<3).map { _ in PrivateKey.generate() }
        let admitted = Set(keys.map { PeerID($0.publicKey) })
        let meshes = try keys.map { try node($0, measurement: Self.release, admitted: admitted) }
        let logs = meshes.map { EventLog($0) }
        for mesh in meshes { try await mesh.start() }
        for i in 0..<3 { for j in (i + 1)..<3 { try await meshes[i].connect(host: "127.0.0.1", port: meshes[j].listenPort) } }
        #expect(await eventually { meshes.allSatisfy { $0.connectedPeers.count == 2 } })
        for peer in meshes[0].connectedPeers {
            #expect(peer.platform == "simulated")
            #expect(peer.measurement == Hex.encode(Self.release))
        }
        for (i, mesh) in meshes.enumerated() { try mesh.broadcast([UInt8(i)], topic: "attested") }
        #expect(await eventually { logs.allSatisfy { $0.messages.count == 2 } })
        for mesh in meshes { await mesh.stop() }
    }

    @Test func aNodeWhoseMeasurementIsNotInTheReleaseIsRefusedByAll() async throws {
        let keys = (0..<3).map { _ in PrivateKey.generate() }
        let admitted = Set(keys.map { PeerID($0.publicKey) })
        let members = try keys.prefix(2).map { try node($0, measurement: Self.release, admitted: admitted) }
        let rogue = try node(keys[2], measurement: [UInt8](repeating: 0xEE, count: 32), admitted: admitted)
        let memberLogs = members.map { EventLog($0) }
        for mesh in members + [rogue] { try await mesh.start() }
        for member in members {
            _ = try? await rogue.connect(host: "127.0.0.1", port: member.listenPort)
        }
        #expect(await eventually { memberLogs.allSatisfy { !$0.refusals.isEmpty } })
        #expect(members.allSatisfy { $0.connectedPeers.allSatisfy { $0.identity != rogue.identity } })
        #expect(rogue.connectedPeers.isEmpty)
        for mesh in members + [rogue] { await mesh.stop() }
    }
}
