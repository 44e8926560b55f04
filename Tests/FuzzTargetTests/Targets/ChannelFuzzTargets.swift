import Foundation
import Secp256k1
import SwiftProtobuf
import WireCodec

@testable import Network
@testable import SecureChannel

/// The attested channel: EKEP handshake frames in both roles, ALTS records, and the mesh's envelopes.
enum ChannelFuzzTargets {
    static let builders: [FuzzTargetBuilder] = [
        ("ekep-server", { _ in try ekep(role: .server) }),
        ("ekep-client", { _ in try ekep(role: .client) }),
        ("alts-record", { _ in try altsRecord() }),
        ("network-envelope", { _ in try networkEnvelope() }),
    ]

    /// Two simulated nodes (bound-evidence assertions over simulated evidence, as the localnet runs) with fixed keys
    /// and seeded randomness, so that an honest handshake is the same bytes on every run.
    struct Pair {
        let client: HandshakeConfiguration
        let server: HandshakeConfiguration

        init() throws {
            func node(_ seed: UInt8) throws -> (SimulatedAssertionGenerator, [UInt8]) {
                let platform = try PrivateKey(bytes: [UInt8](repeating: seed, count: 32))
                let identity = try PrivateKey(bytes: [UInt8](repeating: seed &+ 0x40, count: 32))
                let measurement = [UInt8](repeating: seed &+ 0x80, count: 32)
                return (SimulatedAssertionGenerator(producer: SimulatedEvidenceProducer(measurement: measurement, platformKey: platform),
                                                    identityKey: identity), measurement)
            }
            let (clientGenerator, clientMeasurement) = try node(1)
            let (serverGenerator, serverMeasurement) = try node(2)
            let verifier = SimulatedAssertionVerifier(
                appraiser: SimulatedEvidenceAppraiser(),
                policy: MeasurementAllowListPolicy(allowedMeasurements: [clientMeasurement, serverMeasurement], allowSimulation: true))
            client = try HandshakeConfiguration(selfAssertions: [clientGenerator], acceptedPeerAssertions: [verifier])
            server = try HandshakeConfiguration(selfAssertions: [serverGenerator], acceptedPeerAssertions: [verifier])
        }

        func client(seed: UInt64 = 11) -> EKEPHandshaker { EKEPHandshaker(role: .client, configuration: client, rng: FuzzSeedRNG(seed: seed)) }
        func server(seed: UInt64 = 12) -> EKEPHandshaker { EKEPHandshaker(role: .server, configuration: server, rng: FuzzSeedRNG(seed: seed)) }

        /// Everything the client sends (ClientPrecommit ‖ ClientId ‖ ClientFinish) and everything the server sends
        /// (ServerPrecommit ‖ ServerId ‖ ServerFinish) in one honest handshake.
        func honestStreams() -> (fromClient: [UInt8], fromServer: [UInt8]) {
            var c = client(), s = server()
            let precommit = c.start().bytesToSend
            let serverPrecommit = s.receive(precommit).bytesToSend
            let clientId = c.receive(serverPrecommit).bytesToSend
            let serverIdFinish = s.receive(clientId).bytesToSend
            let clientFinish = c.receive(serverIdFinish).bytesToSend
            _ = s.receive(clientFinish)
            return (precommit + clientId + clientFinish, serverPrecommit + serverIdFinish)
        }
    }

    /// The input is all the peer sends. It is cut into frames by their size fields and delivered one frame per read,
    /// as a peer that waits for each answer would (EKEP refuses bytes pipelined past a flight that needs an answer);
    /// a trailing partial frame is delivered as it is. Completion is legitimate only if the honest stream is an intact
    /// prefix, and the bytes after it are neither lost nor changed.
    static func ekep(role: EKEPHandshaker.Role) throws -> FuzzTarget {
        let pair = try Pair()
        let (fromClient, fromServer) = pair.honestStreams()
        let honest = role == .server ? fromClient : fromServer
        let name = role == .server ? "ekep-server" : "ekep-client"
        return FuzzTarget(name: name, seeds: [honest, honest + [0x01, 0x02, 0x03]]) { stream throws(FuzzFinding) in
            let (outcome, offset) = deliverFramewise(stream, to: role == .server ? pair.server() : pair.client())
            if case .completed(let result) = outcome {
                guard stream.starts(with: honest) else {
                    throw FuzzFinding(target: name, detail: "handshake completed on a stream that is not the honest one")
                }
                guard result.unusedBytes + stream[offset...] == Array(stream.dropFirst(honest.count)) else {
                    throw FuzzFinding(target: name, detail: "bytes after the handshake were lost or changed")
                }
            }
        }
    }

    /// Feeds `stream` to a fresh handshaker (a client is started first) one frame per read, until it stops being in
    /// progress; returns the outcome and how many bytes were delivered.
    static func deliverFramewise(_ stream: [UInt8], to fresh: EKEPHandshaker) -> (HandshakeStep.Outcome, Int) {
        var handshaker = fresh
        if handshaker.role == .client { _ = handshaker.start() }
        var offset = 0
        var outcome = HandshakeStep.Outcome.inProgress
        while offset < stream.count, case .inProgress = outcome {
            var end = stream.count
            if stream.count - offset >= 4 {
                let size = stream[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
                end = min(stream.count, offset + 4 + size)
            }
            outcome = handshaker.receive(stream[offset..<end]).outcome
            offset = end
        }
        return (outcome, offset)
    }

    /// A receiver's record stream: whatever it opens must be a prefix of what the sender sealed.
    static func altsRecord() throws -> FuzzTarget {
        let key = [UInt8](repeating: 0x5C, count: 16)
        var sender = ALTSRecordProtector(key: key, isClient: true)
        let plaintext = Array("first record".utf8) + [UInt8](repeating: 0x55, count: 300) + Array("third".utf8)
        var stream: [UInt8] = []
        stream += try sender.protect(Array(plaintext[0..<12]))
        stream += try sender.protect(Array(plaintext[12..<312]))
        stream += try sender.protect(Array(plaintext[312...]))
        return FuzzTarget(name: "alts-record", seeds: [stream, Array(stream.prefix(40))]) { input throws(FuzzFinding) in
            var receiver = ALTSRecordProtector(key: key, isClient: false)
            guard let opened = try? receiver.unprotect(input) else { return }
            guard plaintext.starts(with: opened) else {
                throw FuzzFinding(target: "alts-record", detail: "opened \(opened.count) bytes that were never sealed")
            }
        }
    }

    /// One envelope body as the mesh receives it, and the payloads the mesh itself parses (peer address lists).
    static func networkEnvelope() throws -> FuzzTarget {
        let identity = try PrivateKey(bytes: [UInt8](repeating: 0x21, count: 32))
        let now: UInt64 = 1_760_000_000_000
        let record = try PeerAddressRecord.make(identity: identity, host: "10.0.0.7", port: 18_515, timestampMilliseconds: now)
        var list = Darknode_V1_PeerAddressList()
        list.records = [record.signed]
        func envelope(_ kind: Darknode_V1_MessageKind, payload: [UInt8], hash: Bool = false, topic: String = "") throws -> [UInt8] {
            var e = Darknode_V1_Envelope()
            e.version = 1
            e.kind = kind
            e.sender = Data(identity.publicKey.compressed)
            e.sessionID = Data([UInt8](repeating: 3, count: 16))
            e.payload = Data(payload)
            if hash { e.contentHash = Data([UInt8](repeating: 0xAB, count: 32)) }
            e.topic = topic
            return try e.serializedBytes()
        }
        let seeds = [
            try envelope(.peerAddresses, payload: try list.serializedBytes()),
            try envelope(.direct, payload: Array("hello".utf8), topic: "consensus"),
            try envelope(.gossipPush, payload: [], hash: true, topic: "mempool"),
            try envelope(.ping, payload: [0, 0, 0, 0, 0, 0, 0, 9]),
        ]
        return FuzzTarget(name: "network-envelope", seeds: seeds) { body throws(FuzzFinding) in
            guard let e = try? EnvelopeFrameDecoder.parse(body) else { return }
            guard e.kind == .peerAddresses, let list = try? Darknode_V1_PeerAddressList(serializedBytes: e.payload) else { return }
            for signed in list.records.prefix(16) {
                guard let parsed = try? PeerAddressRecord(verifying: signed, nowMilliseconds: now, maximumAge: .seconds(3_600)) else { continue }
                // A record that verifies names the key that signed it; only the genuine record is signed here.
                guard parsed.peer == record.peer, parsed.host == record.host, parsed.port == record.port else {
                    throw FuzzFinding(target: "network-envelope", detail: "a changed peer address record verified")
                }
            }
        }
    }
}
