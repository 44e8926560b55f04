import NIOCore
import SecureChannel
import SecureChannelNIO
import Secp256k1

/// The production authenticator: EKEP (Asylo's Enclave Key Exchange Protocol) with attestation bound to the
/// handshake, then the ALTS AES-128-GCM record layer under the mesh's envelope framing.
///
/// The peer is known by the node identity key its assertion binds; a handshake whose assertions carry no
/// identity key (null assertions) is refused here even if a test configuration let EKEP accept it.
public struct EKEPAuthenticator: PeerAuthenticator {
    let configuration: HandshakeConfiguration
    let timeout: TimeAmount

    public init(configuration: HandshakeConfiguration, handshakeTimeout: Duration = .seconds(10)) {
        self.configuration = configuration
        self.timeout = TimeAmount(handshakeTimeout)
    }

    /// An authenticator for a node on the simulated platform: it asserts simulated evidence over its identity
    /// key and accepts peers that the policy allows.
    public static func simulated(
        identity: PrivateKey, measurement: [UInt8], platformKey: PrivateKey, policy: any PeerAttestationPolicy
    ) throws -> EKEPAuthenticator {
        let generator = SimulatedAssertionGenerator(
            producer: SimulatedEvidenceProducer(measurement: measurement, platformKey: platformKey), identityKey: identity)
        let verifier = SimulatedAssertionVerifier(appraiser: SimulatedEvidenceAppraiser(), policy: policy)
        return EKEPAuthenticator(
            configuration: try HandshakeConfiguration(selfAssertions: [generator], acceptedPeerAssertions: [verifier]))
    }

    public func authenticate(channel: any Channel, role: ConnectionRole) -> EventLoopFuture<AuthenticatedPeer> {
        let promise = channel.eventLoop.makePromise(of: AuthenticatedPeer.self)
        let configuration = self.configuration
        let timeout = self.timeout
        let install = {
            do {
                let handshake = EKEPHandshakeHandler(
                    role: role == .dialer ? .client : .server, configuration: configuration, handshakeTimeout: timeout)
                try channel.pipeline.syncOperations.addHandler(handshake, position: .first)
                try channel.pipeline.syncOperations.addHandler(EKEPCompletionWatcher(promise: promise), position: .after(handshake))
            } catch {
                promise.fail(error)
            }
        }
        if channel.eventLoop.inEventLoop { install() } else { channel.eventLoop.execute(install) }
        return promise.futureResult
    }
}

/// Turns EKEP's completion event into the mesh's `AuthenticatedPeer`, and a failure or early close into an error.
final class EKEPCompletionWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let promise: EventLoopPromise<AuthenticatedPeer>
    var done = false

    init(promise: EventLoopPromise<AuthenticatedPeer>) { self.promise = promise }

    func finish(_ result: Result<AuthenticatedPeer, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let completed = event as? EKEPHandshakeCompleted else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard let identity = completed.peerIdentities.first(where: { $0.identityKey != nil }),
            let key = identity.identityKey
        else {
            finish(.failure(AuthenticationError.badProof))
            context.close(promise: nil)
            return
        }
        let evidence = identity.evidence
        let peer = AuthenticatedPeer(
            identity: PeerID(key), platform: evidence.map { $0.isSimulated ? "simulated" : $0.authorityType } ?? "none",
            measurement: evidence.map { Hex.encode($0.measurement) }, evidence: evidence?.rawEvidence)
        // The mesh installs its handlers in the promise's callbacks, inline on this event loop.
        finish(.success(peer))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(AuthenticationError.closed))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(AuthenticationError.closed))
    }
}
