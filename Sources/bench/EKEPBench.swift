import Crypto
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Secp256k1
import SecureChannel
import SecureChannelNIO

/// EKEP handshakes/s and bulk MB/s over loopback TCP, beside TLS 1.3 with mutual authentication (swift-nio-ssl,
/// self-signed P-256 certificates made with the openssl CLI at start) measured in the same run.
func benchEKEP(_ h: inout Harness) {
    print("== ekep ==")
    do {
        try EKEPBench().run(&h)
    } catch {
        print("ekep bench failed: \(error)")
    }
}

private struct EKEPBench {
    enum Transport: String { case ekep = "EKEP (simulated attestation)", tls = "TLS 1.3 mutual (NIOSSL, P-256)" }

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let serverConfig: HandshakeConfiguration
    let clientConfig: HandshakeConfiguration
    let tlsServer: NIOSSLContext
    let tlsClient: NIOSSLContext

    init() throws {
        func node(_ label: String) throws -> (SimulatedAssertionGenerator, [UInt8]) {
            let measurement = Array(SHA256.hash(data: Array(label.utf8)))
            let generator = SimulatedAssertionGenerator(
                producer: SimulatedEvidenceProducer(measurement: measurement, platformKey: PrivateKey.generate()),
                identityKey: PrivateKey.generate())
            return (generator, measurement)
        }
        let (serverGenerator, serverMeasurement) = try node("bench server")
        let (clientGenerator, clientMeasurement) = try node("bench client")
        let verifier = SimulatedAssertionVerifier(
            appraiser: SimulatedEvidenceAppraiser(),
            policy: MeasurementAllowListPolicy(allowedMeasurements: [serverMeasurement, clientMeasurement],
                                               allowSimulation: true))
        serverConfig = try HandshakeConfiguration(selfAssertions: [serverGenerator], acceptedPeerAssertions: [verifier])
        clientConfig = try HandshakeConfiguration(selfAssertions: [clientGenerator], acceptedPeerAssertions: [verifier])

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ekep-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func makeCertificate(_ name: String) throws -> (NIOSSLCertificate, NIOSSLPrivateKey) {
            let key = directory.appendingPathComponent("\(name).key").path
            let cert = directory.appendingPathComponent("\(name).pem").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                 "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=\(name)"]
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return (try NIOSSLCertificate.fromPEMFile(cert)[0], try NIOSSLPrivateKey(file: key, format: .pem))
        }
        let (serverCert, serverKey) = try makeCertificate("server")
        let (clientCert, clientKey) = try makeCertificate("client")
        var server = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(serverCert)],
                                                              privateKey: .privateKey(serverKey))
        server.minimumTLSVersion = .tlsv13
        server.certificateVerification = .noHostnameVerification
        server.trustRoots = .certificates([clientCert])
        var client = TLSConfiguration.makeClientConfiguration()
        client.minimumTLSVersion = .tlsv13
        client.certificateChain = [.certificate(clientCert)]
        client.privateKey = .privateKey(clientKey)
        client.certificateVerification = .noHostnameVerification
        client.trustRoots = .certificates([serverCert])
        tlsServer = try NIOSSLContext(configuration: server)
        tlsClient = try NIOSSLContext(configuration: client)
    }

    func run(_ h: inout Harness) throws {
        defer { try? group.syncShutdownGracefully() }
        for proto in [Transport.ekep, .tls] {
            let server = try startServer(proto)
            defer { try? server.close().wait() }
            let address = server.localAddress!
            h.measure("\(proto.rawValue) handshake (loopback, connect+handshake)", iterations: 20) {
                for _ in 0..<20 {
                    let (channel, ready) = try! connect(proto, to: address, expecting: 0)
                    try! ready.wait()
                    try! channel.close().wait()
                }
            }
        }
        h.ratio("TLS 1.3 mutual (NIOSSL, P-256) handshake (loopback, connect+handshake)",
                "EKEP (simulated attestation) handshake (loopback, connect+handshake)")
        print("  (ratio > 1: EKEP completes more handshakes per second than TLS 1.3)")

        let megabytes = 32
        let chunk = ByteBuffer(repeating: 0x5A, count: 64 * 1024)
        let total = megabytes * 1024 * 1024
        for proto in [Transport.ekep, .tls] {
            let server = try startServer(proto)
            defer { try? server.close().wait() }
            // One connection per batch: the server acknowledges with one byte once it has read everything.
            let result = h.measure("\(proto.rawValue) bulk \(megabytes) MiB one way (per MiB)", iterations: megabytes) {
                let (channel, done) = try! connect(proto, to: server.localAddress!, expecting: 1, announce: total)
                for _ in 0..<(total / chunk.readableBytes) { channel.write(chunk, promise: nil) }
                channel.flush()
                try! done.wait()
                try! channel.close().wait()
            }
            print(String(format: "  %@: %.1f MB/s", proto.rawValue, 1_048_576 / result.nanosecondsPerOperation * 1e9 / 1e6))
        }
        h.ratio("TLS 1.3 mutual (NIOSSL, P-256) bulk 32 MiB one way (per MiB)",
                "EKEP (simulated attestation) bulk 32 MiB one way (per MiB)")
        print("  (ratio > 1: EKEP moves more bytes per second than TLS 1.3)")
    }

    func startServer(_ proto: Transport) throws -> Channel {
        let serverConfig = self.serverConfig
        let tlsServer = self.tlsServer
        return try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    switch proto {
                    case .ekep:
                        try channel.pipeline.syncOperations.addEKEPHandshakeHandler(role: .server, configuration: serverConfig)
                    case .tls:
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsServer))
                    }
                    try channel.pipeline.syncOperations.addHandler(SinkServer())
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    /// Connects; the future completes when the handshake is done (`expecting == 0`) or when the server's one-byte
    /// acknowledgement of `announce` bytes arrives.
    func connect(_ proto: Transport, to address: SocketAddress, expecting: Int, announce: Int = 0) throws
        -> (Channel, EventLoopFuture<Void>)
    {
        let loop = group.next()
        let ready = loop.makePromise(of: Void.self)
        let clientConfig = self.clientConfig
        let tlsClient = self.tlsClient
        let channel = try ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    switch proto {
                    case .ekep:
                        try channel.pipeline.syncOperations.addEKEPHandshakeHandler(role: .client, configuration: clientConfig)
                    case .tls:
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tlsClient, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(ClientWaiter(expecting: expecting, promise: ready))
                }
            }
            .connect(to: address).wait()
        if announce > 0 {
            var header = ByteBuffer()
            header.writeInteger(UInt64(announce))
            channel.write(header, promise: nil)
        }
        return (channel, ready.futureResult)
    }
}

/// Server side: reads an 8-byte length, counts that many bytes, then answers with one byte.
private final class SinkServer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var expected: Int?
    var header = ByteBuffer()
    var received = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if expected == nil {
            let need = 8 - header.readableBytes
            var part = buffer.readSlice(length: min(need, buffer.readableBytes))!
            header.writeBuffer(&part)
            if header.readableBytes == 8 { expected = Int(header.readInteger(as: UInt64.self)!) }
        }
        received += buffer.readableBytes
        if let expected, received >= expected {
            received = 0
            self.expected = nil
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: [1])), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Client side: completes the promise at handshake completion, or once `expecting` bytes arrived.
private final class ClientWaiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let expecting: Int
    let promise: EventLoopPromise<Void>
    var received = 0

    init(expecting: Int, promise: EventLoopPromise<Void>) {
        self.expecting = expecting
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        let done = event is EKEPHandshakeCompleted
            || { if case TLSUserEvent.handshakeCompleted = event { true } else { false } }()
        if done && expecting == 0 { promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        if expecting > 0 && received >= expecting { promise.succeed() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
    }
}
