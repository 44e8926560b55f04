import NIOCore
import NIOEmbedded
import SecureChannel
import SimulationKit
import Testing

@testable import SecureChannelNIO

@Suite struct EmbeddedHandshakeTests {
    let clientNode = TestNode(seed: 1)
    let serverNode = TestNode(seed: 2)

    struct Peers {
        let client: EmbeddedChannel
        let server: EmbeddedChannel
        let clientApp = ApplicationRecorder()
        let serverApp = ApplicationRecorder()
    }

    func makePeers(clientTimeout: TimeAmount = .seconds(10), serverTimeout: TimeAmount = .seconds(10)) throws -> Peers {
        let accepted = [clientNode.measurement, serverNode.measurement]
        let peers = Peers(client: EmbeddedChannel(), server: EmbeddedChannel())
        try peers.client.pipeline.syncOperations.addHandlers([
            EKEPHandshakeHandler(role: .client, configuration: try clientNode.configuration(accepting: accepted),
                                 handshakeTimeout: clientTimeout, rng: DeterministicRNG(seed: 5)),
            peers.clientApp,
        ])
        try peers.server.pipeline.syncOperations.addHandlers([
            EKEPHandshakeHandler(role: .server, configuration: try serverNode.configuration(accepting: accepted),
                                 handshakeTimeout: serverTimeout, rng: DeterministicRNG(seed: 6)),
            peers.serverApp,
        ])
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        try peers.server.connect(to: address).wait()
        try peers.client.connect(to: address).wait()
        return peers
    }

    /// Moves bytes between the two channels until both are quiet. `edit` may rewrite any chunk in flight.
    @discardableResult
    func pump(_ peers: Peers, edit: (Bool, ByteBuffer) -> ByteBuffer = { $1 }) -> [any Error] {
        var errors: [any Error] = []
        var moved = true
        while moved {
            moved = false
            while let out = try? peers.client.readOutbound(as: ByteBuffer.self) {
                moved = true
                do { try peers.server.writeInbound(edit(true, out)) } catch { errors.append(error) }
            }
            while let out = try? peers.server.readOutbound(as: ByteBuffer.self) {
                moved = true
                do { try peers.client.writeInbound(edit(false, out)) } catch { errors.append(error) }
            }
        }
        return errors
    }

    @Test func handshakeCompletesAndBytesRoundTrip() throws {
        let peers = try makePeers()
        // Written before the handshake finishes: held, then sealed.
        peers.client.writeAndFlush(ByteBuffer(string: "early from client"), promise: nil)
        #expect(pump(peers).isEmpty)
        #expect(peers.clientApp.completed?.peerIdentities.first?.identityKey == serverNode.identityKey.publicKey)
        #expect(peers.serverApp.completed?.peerIdentities.first?.identityKey == clientNode.identityKey.publicKey)
        #expect(peers.serverApp.received == Array("early from client".utf8))
        try peers.server.writeAndFlush(ByteBuffer(string: "hello client")).wait()
        try peers.client.writeAndFlush(ByteBuffer(bytes: [UInt8](repeating: 7, count: 100_000))).wait()
        pump(peers)
        #expect(peers.clientApp.received == Array("hello client".utf8))
        #expect(peers.serverApp.received.count == 17 + 100_000)
        // The handshake handler has left; the record layer remains.
        #expect(throws: (any Error).self) { try peers.client.pipeline.syncOperations.handler(type: EKEPHandshakeHandler.self) }
        #expect(try peers.client.finish().isClean)
        #expect(try peers.server.finish().isClean)
    }

    @Test func handshakeTimesOut() throws {
        let peers = try makePeers(serverTimeout: .seconds(3))
        _ = try peers.client.readOutbound(as: ByteBuffer.self)  // ClientPrecommit lost in transit
        peers.server.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(peers.server.isActive)
        peers.server.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!peers.server.isActive)
        #expect(peers.serverApp.completed == nil)
    }

    @Test func tamperedFlightAbortsAndDeliversNothing() throws {
        let peers = try makePeers()
        peers.client.writeAndFlush(ByteBuffer(string: "secret"), promise: nil)
        var chunk = 0
        let errors = pump(peers) { toServer, buffer in
            chunk += 1
            guard !toServer, chunk == 2 else { return buffer }  // the ServerPrecommit
            var bytes = Array(buffer.readableBytesView)
            bytes[bytes.count - 3] ^= 1  // inside the server's challenge
            return ByteBuffer(bytes: bytes)
        }
        #expect(errors.contains { ($0 as? HandshakeFailure)?.code == .badAssertion })
        #expect(peers.serverApp.received.isEmpty && peers.clientApp.received.isEmpty)
        #expect(peers.serverApp.completed == nil && peers.clientApp.completed == nil)
        #expect(!peers.server.isActive && !peers.client.isActive)
    }

    @Test func flippedCiphertextBitClosesTheChannel() throws {
        let peers = try makePeers()
        pump(peers)
        #expect(peers.serverApp.completed != nil)
        try peers.client.writeAndFlush(ByteBuffer(string: "integrity")).wait()
        var out = try #require(try peers.client.readOutbound(as: ByteBuffer.self))
        let index = out.readerIndex + 10
        out.setInteger(out.getInteger(at: index, as: UInt8.self)! ^ 0x40, at: index)
        #expect(throws: RecordProtocolError.authenticationFailed) { try peers.server.writeInbound(out) }
        #expect(peers.serverApp.received.isEmpty)
        #expect(!peers.server.isActive)
    }

    @Test func oversizeRecordFrameIsRejected() throws {
        let peers = try makePeers()
        pump(peers)
        var header = ByteBuffer()
        header.writeInteger(UInt32((1 << 20) + 1), endianness: .little)
        header.writeInteger(UInt32(6), endianness: .little)
        #expect(throws: RecordProtocolError.frameSizeOutOfRange((1 << 20) + 1)) {
            try peers.server.writeInbound(header)
        }
        #expect(peers.serverApp.received.isEmpty)
    }

    @Test func peerEOFDuringHandshakeFails() throws {
        let peers = try makePeers()
        _ = try peers.client.readOutbound(as: ByteBuffer.self)
        peers.server.pipeline.fireChannelInactive()
        #expect(peers.serverApp.errors.contains { $0 as? HandshakeFailure == .connectionClosed(reason: "EOF") })
    }
}
