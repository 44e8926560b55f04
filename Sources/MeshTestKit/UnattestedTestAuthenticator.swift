import Crypto
import NIOCore
import Network
import Secp256k1

/// A development handshake WITHOUT attestation: each side proves possession of its identity key by signing
/// both sides' fresh nonces, and nothing is encrypted. It exists only for tests, the test executable
/// (`darknode-meshtest`) and the plain-TCP benchmark peer: it lives in this test-only target, which the shipped
/// `darknode` does not link (`scripts/check-imports` and `ShippedBinaryTests` check that). It still refuses to
/// run unless constructed with `enabledForTesting: true`, so a test can show that a switched-off handshake fails.
///
/// Wire: `DNDV` ‖ 33-byte identity key ‖ 32-byte nonce from each side, then a 64-byte signature over
/// SHA-256("darknode/unattested-handshake/v1" ‖ dialer key ‖ dialer nonce ‖ listener key ‖ listener nonce ‖ role).
public struct UnattestedTestAuthenticator: PeerAuthenticator {
    let identity: PrivateKey
    let enabled: Bool
    let timeout: TimeAmount

    public init(identity: PrivateKey, enabledForTesting: Bool, handshakeTimeout: Duration = .seconds(10)) {
        self.identity = identity
        self.enabled = enabledForTesting
        self.timeout = TimeAmount(handshakeTimeout)
    }

    public func authenticate(channel: any Channel, role: ConnectionRole) -> EventLoopFuture<AuthenticatedPeer> {
        guard enabled else {
            return channel.eventLoop.makeFailedFuture(UnattestedHandshakeError.notSwitchedOn)
        }
        let promise = channel.eventLoop.makePromise(of: AuthenticatedPeer.self)
        let identity = self.identity
        let timeout = self.timeout
        // Installed synchronously when called from the channel initialiser, so no early byte can slip past.
        let install: @Sendable () -> Void = {
            do {
                let handler = UnattestedHandshakeHandler(identity: identity, role: role, promise: promise, timeout: timeout)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            } catch {
                promise.fail(error)
            }
        }
        if channel.eventLoop.inEventLoop { install() } else { channel.eventLoop.execute(install) }
        return promise.futureResult
    }
}

/// The unattested handshake was constructed without `enabledForTesting: true`.
public enum UnattestedHandshakeError: Error, Equatable, Sendable {
    case notSwitchedOn
}

final class UnattestedHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let magic: [UInt8] = Array("DNDV".utf8)
    static let helloLength = 4 + 33 + 32
    static let domain: [UInt8] = Array("darknode/unattested-handshake/v1".utf8)

    let identity: PrivateKey
    let role: ConnectionRole
    let promise: EventLoopPromise<AuthenticatedPeer>
    let timeout: TimeAmount
    let nonce: [UInt8]
    var buffer: ByteBuffer?
    var peerHello: (key: PublicKey, nonce: [UInt8])?
    var done = false
    var timer: Scheduled<Void>?

    init(identity: PrivateKey, role: ConnectionRole, promise: EventLoopPromise<AuthenticatedPeer>, timeout: TimeAmount) {
        self.identity = identity
        self.role = role
        self.promise = promise
        self.timeout = timeout
        var rng = SystemRandomNumberGenerator()
        self.nonce = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.fail(context: context, AuthenticationError.timeout)
        }
        if context.channel.isActive { sendHello(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendHello(context: context)
        context.fireChannelActive()
    }

    var helloSent = false
    func sendHello(context: ChannelHandlerContext) {
        guard !helloSent else { return }
        helloSent = true
        var out = context.channel.allocator.buffer(capacity: Self.helloLength)
        out.writeBytes(Self.magic + identity.publicKey.compressed + nonce)
        context.writeAndFlush(NIOAny(out), promise: nil)
    }

    func transcriptDigest(signerIsDialer: Bool, peer: (key: PublicKey, nonce: [UInt8])) -> [UInt8] {
        let mine = identity.publicKey.compressed + nonce
        let theirs = peer.key.compressed + peer.nonce
        let (dialer, listener) = role == .dialer ? (mine, theirs) : (theirs, mine)
        return Array(SHA256.hash(data: Self.domain + dialer + listener + [signerIsDialer ? 1 : 0]))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard !done else {
            context.fireChannelRead(data)
            return
        }
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
        process(context: context)
    }

    func process(context: ChannelHandlerContext) {
        guard var buf = buffer else { return }
        if peerHello == nil {
            guard buf.readableBytes >= Self.helloLength else { return }
            let hello = buf.readBytes(length: Self.helloLength)!
            guard Array(hello[0..<4]) == Self.magic else {
                return fail(context: context, AuthenticationError.malformedHandshake("bad magic"))
            }
            guard let key = try? PublicKey(encoded: hello[4..<37]) else {
                return fail(context: context, AuthenticationError.malformedHandshake("bad identity key"))
            }
            let peer = (key: key, nonce: Array(hello[37..<69]))
            peerHello = peer
            let signature = try! identity.signature(for: transcriptDigest(signerIsDialer: role == .dialer, peer: peer))
            var out = context.channel.allocator.buffer(capacity: 64)
            out.writeBytes(signature.compact)
            context.writeAndFlush(NIOAny(out), promise: nil)
        }
        buffer = buf
        guard let peer = peerHello, buf.readableBytes >= 64 else { return }
        let proof = buf.readBytes(length: 64)!
        buffer = buf
        guard let signature = try? ECDSASignature(compact: proof),
            peer.key.isValidSignature(signature, for: transcriptDigest(signerIsDialer: role != .dialer, peer: peer))
        else {
            return fail(context: context, AuthenticationError.badProof)
        }
        done = true
        timer?.cancel()
        // Downstream handlers are installed by the promise's callbacks, which run inline on this event loop;
        // only then are any bytes that arrived behind the handshake passed on.
        promise.succeed(AuthenticatedPeer(identity: PeerID(peer.key), platform: "unattested", measurement: nil, evidence: nil))
        if let rest = buffer, rest.readableBytes > 0 {
            buffer = nil
            context.fireChannelRead(NIOAny(rest))
        }
        buffer = nil
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func fail(context: ChannelHandlerContext, _ error: Error) {
        guard !done else { return }
        done = true
        timer?.cancel()
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context: context, AuthenticationError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(context: context, error)
    }
}
