import NIOCore
import NIOPosix
import SecureChannel
import Testing

@testable import SecureChannelNIO

/// Two simulated-platform peers over real TCP on 127.0.0.1.
@Suite struct TCPHandshakeTests {
    /// Echoes every plaintext chunk back, and greets the client first.
    final class EchoServer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is EKEPHandshakeCompleted {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "hello from server\n")), promise: nil)
            }
            context.fireUserInboundEventTriggered(event)
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(data, promise: nil)
        }
    }

    /// Collects plaintext until `expected` bytes arrived.
    final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let expected: Int
        let done: EventLoopPromise<([UInt8], EKEPHandshakeCompleted?)>
        var received: [UInt8] = []
        var peer: EKEPHandshakeCompleted?
        init(expected: Int, done: EventLoopPromise<([UInt8], EKEPHandshakeCompleted?)>) {
            self.expected = expected
            self.done = done
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let e = event as? EKEPHandshakeCompleted { peer = e }
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytesView
            if received.count >= expected { done.succeed((received, peer)) }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            done.fail(error)
        }
        func channelInactive(context: ChannelHandlerContext) {
            done.fail(ChannelError.eof)
        }
    }

    @Test func simulatedPeersOverLoopback() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let clientNode = TestNode(seed: 1)
        let serverNode = TestNode(seed: 2)
        let accepted = [clientNode.measurement, serverNode.measurement]
        let serverConfig = try serverNode.configuration(accepting: accepted)
        let clientConfig = try clientNode.configuration(accepting: accepted)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addEKEPHandshakeHandler(role: .server,
                                                                                 configuration: serverConfig)
                    try channel.pipeline.syncOperations.addHandler(EchoServer())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let greeting = Array("hello from server\n".utf8)
        let done = group.next().makePromise(of: ([UInt8], EKEPHandshakeCompleted?).self)
        let expected = greeting.count + payload.count
        let client = try await ClientBootstrap(group: done.futureResult.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addEKEPHandshakeHandler(role: .client,
                                                                                 configuration: clientConfig)
                    try channel.pipeline.syncOperations.addHandler(Collector(expected: expected, done: done))
                }
            }
            .connect(to: server.localAddress!).get()
        // Written right away: held until the handshake completes.
        try await client.writeAndFlush(ByteBuffer(bytes: payload))
        let (received, peer) = try await done.futureResult.get()
        #expect(Array(received.prefix(greeting.count)) == greeting)
        #expect(Array(received.dropFirst(greeting.count)) == payload)
        #expect(peer?.peerIdentities.first?.identityKey == serverNode.identityKey.publicKey)
        #expect(peer?.peerIdentities.first?.evidence?.measurement == serverNode.measurement)
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func peerOutsidePolicyIsRefusedOverLoopback() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientNode = TestNode(seed: 1)
        let serverNode = TestNode(seed: 2)
        // The server accepts only its own measurement.
        let serverConfig = try serverNode.configuration(accepting: [serverNode.measurement])
        let clientConfig = try clientNode.configuration(accepting: [serverNode.measurement])
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addEKEPHandshakeHandler(role: .server,
                                                                                 configuration: serverConfig)
                    try channel.pipeline.syncOperations.addHandler(EchoServer())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let done = group.next().makePromise(of: ([UInt8], EKEPHandshakeCompleted?).self)
        let expected = 1
        let client = try await ClientBootstrap(group: done.futureResult.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addEKEPHandshakeHandler(role: .client,
                                                                                 configuration: clientConfig)
                    try channel.pipeline.syncOperations.addHandler(Collector(expected: expected, done: done))
                }
            }
            .connect(to: server.localAddress!).get()
        do {
            _ = try await done.futureResult.get()
            Issue.record("no failure")
        } catch let failure as HandshakeFailure {
            #expect(failure.code == .badAssertion)
        }
        try? await client.closeFuture.get()
        try await server.close()
        try await group.shutdownGracefully()
    }
}
