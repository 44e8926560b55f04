import Crypto
import NIOCore
import Secp256k1
import SecureChannel
import SecureChannelNIO
import SimulationKit

struct TestNode {
    let measurement: [UInt8]
    let platformKey: PrivateKey
    let identityKey: PrivateKey

    init(seed: UInt64) {
        var rng = DeterministicRNG(seed: seed)
        platformKey = PrivateKey.generate(using: &rng)
        identityKey = PrivateKey.generate(using: &rng)
        measurement = Array(SHA256.hash(data: Array("darknode build \(seed)".utf8)))
    }

    func configuration(accepting measurements: [[UInt8]]) throws -> HandshakeConfiguration {
        try HandshakeConfiguration(
            selfAssertions: [
                SimulatedAssertionGenerator(
                    producer: SimulatedEvidenceProducer(measurement: measurement, platformKey: platformKey),
                    identityKey: identityKey)
            ],
            acceptedPeerAssertions: [
                SimulatedAssertionVerifier(
                    appraiser: SimulatedEvidenceAppraiser(),
                    policy: MeasurementAllowListPolicy(allowedMeasurements: Set(measurements), allowSimulation: true))
            ])
    }
}

/// Collects what reaches the application: plaintext bytes, the completion event and errors.
final class ApplicationRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    var received: [UInt8] = []
    var completed: EKEPHandshakeCompleted?
    var errors: [any Error] = []
    var onRead: ((ChannelHandlerContext, ByteBuffer) -> Void)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        received += buffer.readableBytesView
        onRead?(context, buffer)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? EKEPHandshakeCompleted { completed = e }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
        context.fireErrorCaught(error)
    }
}
