import Foundation
import Attestation
import Crypto
import Secp256k1
import SimulationKit
import SwiftProtobuf
import Testing

@testable import SecureChannel

func bytes(hex: String) -> [UInt8] {
    let chars = Array(hex.utf8)
    precondition(chars.count % 2 == 0)
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: preconditionFailure("bad hex")
        }
    }
    return stride(from: 0, to: chars.count, by: 2).map { nibble(chars[$0]) << 4 | nibble(chars[$0 + 1]) }
}

/// A simulated node: platform key, measurement, identity key.
struct SimulatedNode {
    let measurement: [UInt8]
    let platformKey: PrivateKey
    let identityKey: PrivateKey

    init(seed: UInt64, measurement: [UInt8]? = nil) {
        var rng = DeterministicRNG(seed: seed)
        platformKey = PrivateKey.generate(using: &rng)
        identityKey = PrivateKey.generate(using: &rng)
        self.measurement = measurement ?? Array(SHA256.hash(data: Array("darknode build \(seed)".utf8)))
    }

    var generator: SimulatedAssertionGenerator {
        SimulatedAssertionGenerator(producer: SimulatedEvidenceProducer(measurement: measurement,
                                                                        platformKey: platformKey),
                                    identityKey: identityKey)
    }
}

func simulatedVerifier(allowing measurements: [[UInt8]], allowSimulation: Bool = true) -> SimulatedAssertionVerifier {
    SimulatedAssertionVerifier(
        appraiser: SimulatedEvidenceAppraiser(),
        policy: MeasurementAllowListPolicy(allowedMeasurements: Set(measurements), allowSimulation: allowSimulation))
}

/// Two simulated nodes that accept each other's measurements.
struct SimulatedPair {
    let client = SimulatedNode(seed: 1)
    let server = SimulatedNode(seed: 2)

    func configurations(aad: [UInt8] = []) throws -> (client: HandshakeConfiguration, server: HandshakeConfiguration) {
        let verifier = simulatedVerifier(allowing: [client.measurement, server.measurement])
        return (
            try HandshakeConfiguration(selfAssertions: [client.generator], acceptedPeerAssertions: [verifier],
                                       additionalAuthenticatedData: aad),
            try HandshakeConfiguration(selfAssertions: [server.generator], acceptedPeerAssertions: [verifier],
                                       additionalAuthenticatedData: aad)
        )
    }

    func handshakers(seed: UInt64 = 7) throws -> (client: EKEPHandshaker, server: EKEPHandshaker) {
        let configs = try configurations()
        return (
            EKEPHandshaker(role: .client, configuration: configs.client, rng: DeterministicRNG(seed: seed)),
            EKEPHandshaker(role: .server, configuration: configs.server, rng: DeterministicRNG(seed: seed &+ 1000))
        )
    }
}

func nullConfiguration() throws -> HandshakeConfiguration {
    try HandshakeConfiguration(selfAssertions: [NullAssertionGenerator()],
                               acceptedPeerAssertions: [NullAssertionVerifier()],
                               allowInsecureNullAssertionsForTesting: true)
}

/// The flights of one honest handshake, recorded so tests can tamper with them.
struct RecordedHandshake {
    var clientPrecommit: [UInt8] = []
    var serverPrecommit: [UInt8] = []
    var clientId: [UInt8] = []
    /// ServerId ‖ ServerFinish (one flight).
    var serverIdAndFinish: [UInt8] = []
    var clientFinish: [UInt8] = []
    var clientResult: HandshakeResult?
    var serverResult: HandshakeResult?
}

enum Outcome {
    case inProgress, completed(HandshakeResult), failed(HandshakeFailure)
    init(_ o: HandshakeStep.Outcome) {
        switch o {
        case .inProgress: self = .inProgress
        case .completed(let r): self = .completed(r)
        case .failed(let f): self = .failed(f)
        }
    }
    var failure: HandshakeFailure? { if case .failed(let f) = self { f } else { nil } }
    var result: HandshakeResult? { if case .completed(let r) = self { r } else { nil } }
}

/// Runs an honest handshake step by step and records each flight.
func runHandshake(client: inout EKEPHandshaker, server: inout EKEPHandshaker) -> RecordedHandshake {
    var rec = RecordedHandshake()
    rec.clientPrecommit = client.start().bytesToSend
    let s1 = server.receive(rec.clientPrecommit)
    rec.serverPrecommit = s1.bytesToSend
    let c1 = client.receive(rec.serverPrecommit)
    rec.clientId = c1.bytesToSend
    let s2 = server.receive(rec.clientId)
    rec.serverIdAndFinish = s2.bytesToSend
    let c2 = client.receive(rec.serverIdAndFinish)
    rec.clientFinish = c2.bytesToSend
    rec.clientResult = Outcome(c2.outcome).result
    let s3 = server.receive(rec.clientFinish)
    rec.serverResult = Outcome(s3.outcome).result
    return rec
}

/// Splits a byte run into its handshake frames (honest input only).
func splitFrames(_ bytes: [UInt8]) -> [[UInt8]] {
    var out: [[UInt8]] = []
    var i = 0
    while i + 8 <= bytes.count {
        let size = Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24
        out.append(Array(bytes[i..<(i + 4 + size)]))
        i += 4 + size
    }
    return out
}

/// The end of a driven handshake.
struct DrivenHandshake {
    var client: Outcome = .inProgress
    var server: Outcome = .inProgress
    /// The first local failure (the side that detected the problem).
    var detected: HandshakeFailure? {
        for f in [client.failure, server.failure].compactMap({ $0 }) {
            switch f {
            case .aborted, .closedSilently, .malformedPeerAbort: return f
            default: continue
            }
        }
        return nil
    }
    var bothCompleted: Bool { client.result != nil && server.result != nil }
}

/// Drives a handshake, letting `tamper` rewrite flight n (0 = ClientPrecommit, 1 = ServerPrecommit, 2 = ClientId,
/// 3 = ServerId‖ServerFinish, 4 = ClientFinish) before delivery. Aborts are delivered to the other side.
func driveHandshake(client: inout EKEPHandshaker, server: inout EKEPHandshaker,
                    tamper: (Int, [UInt8]) -> [UInt8] = { $1 }) -> DrivenHandshake
{
    var out = DrivenHandshake()
    var flight = 0
    var pending = tamper(flight, client.start().bytesToSend)
    var toServer = true
    while flight < 8 {
        flight += 1
        let step = toServer ? server.receive(pending) : client.receive(pending)
        let outcome = Outcome(step.outcome)
        if toServer { out.server = outcome } else { out.client = outcome }
        if case .failed = outcome {
            if !step.bytesToSend.isEmpty {
                let peer = toServer ? client.receive(step.bytesToSend) : server.receive(step.bytesToSend)
                if toServer { out.client = Outcome(peer.outcome) } else { out.server = Outcome(peer.outcome) }
            }
            return out
        }
        if step.bytesToSend.isEmpty { return out }
        pending = tamper(flight, step.bytesToSend)
        toServer.toggle()
    }
    return out
}

/// Replaces the message in a frame with a modified copy, re-framing it.
func reframe<M: SwiftProtobuf.Message>(_ frame: [UInt8], as: M.Type, _ edit: (inout M) -> Void) throws -> [UInt8] {
    var message = try M(serializedBytes: Array(frame[8...]))
    edit(&message)
    let type = UInt32(frame[4]) | UInt32(frame[5]) << 8
    return HandshakeFrame.encode(type: type, body: try message.serializedBytes())
}
