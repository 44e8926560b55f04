// Goal: every MPC message survives the wire format (Protos/darknode/v1/mpc.proto) unchanged, malformed input is
// refused with a typed error before a session sees it, and equivocation is judged on the received bytes.
// Method: encode every message of real key generation, presigning and resharing transcripts and decode it; then
// break encodings one way at a time; then mutate encodings at random (a seeded fuzz loop) and feed whatever
// decodes to a live session.
import Crypto
import Foundation
import SimulationSupport
import Testing
import TestSupport
import WireCodec

@testable import MPC
@testable import Secp256k1

@Suite(.dedicatedThread) struct WireFormatTests {
    /// A small transcript with every payload kind that sessions broadcast.
    static func transcripts() throws -> [MPCMessage] {
        var rng = DeterministicRNG(seed: 90)
        let parameters = try CommitteeParameters(size: 4, threshold: 1)
        // A dealer that reveals inconsistent Feldman values forces reveal complaints and a reconstruction round.
        let liar: (MPCMessage) -> [MPCMessage] = { message in
            guard case .feldmanReveal(let points) = message.payload else { return [message] }
            return [MPCMessage(session: message.session, sender: message.sender, recipient: nil, round: message.round,
                               payload: .feldmanReveal([points[0] + Point.generator] + points.dropFirst()))]
        }
        let keygen = try MPCSimulation.generateKey(parameters: parameters, rng: &rng, behaviours: [2: liar])
        let shares = keygen.sessions.compactMap(\.keyShare)
        try #require(shares.count == 4)
        let presign = try MPCSimulation.presign(keyShares: shares, count: 2, rng: &rng, behaviours: [3: { _ in [] }])
        let reshare = try MPCSimulation.reshare(oldShares: shares, newParameters: parameters, rng: &rng)
        return keygen.transcript + presign.transcript + reshare.transcript
    }

    @Test func everyPayloadKindRoundTrips() throws {
        var messages = try Self.transcripts()
        messages.append(
            MPCMessage(
                session: SessionID(purpose: "sign", epoch: 3, label: "x"), sender: 2, recipient: 1, round: 1,
                payload: .signatureShare(
                    SignatureShare(
                        presignatureID: try PresignatureID(bytes: Array(repeating: 7, count: 32)), epoch: 3, signer: 2,
                        digest: Array(repeating: 9, count: 32), value: Scalar(5), blinding: Scalar(6)))))
        messages.append(
            MPCMessage(
                session: messages[0].session, sender: 1, recipient: nil, round: 3,
                payload: .shareEvidence([ShareDisclosure(dealer: 2, sharedPoint: .generator,
                                                         proof: EqualityProof(challenge: Scalar(1), response: Scalar(2)))])))
        var kinds: Set<String> = []
        for message in messages {
            let bytes = MPCWire.encode(message)
            let decoded = try MPCWire.decode(bytes)
            #expect(decoded.payload == message.payload)
            #expect(decoded.session == message.session && decoded.sender == message.sender)
            #expect(decoded.recipient == message.recipient && decoded.round == message.round)
            #expect(decoded.receivedDigest == Array(SHA256.hash(data: bytes)))
            kinds.insert(String(describing: message.payload).prefix { $0 != "(" }.description)
        }
        #expect(kinds.isSuperset(of: [
            "dealing", "complaints", "feldmanReveal", "revealComplaints", "reconstruction", "presignOpenings",
            "roundTimeout", "signatureShare", "shareEvidence",
        ]), "kinds seen: \(kinds.sorted())")
    }

    /// One valid message as the generated type, to break one field at a time.
    static func validWire() throws -> (message: MPCMessage, wire: Darknode_V1_MPCMessage) {
        let dealing = try #require(try transcripts().first { if case .dealing = $0.payload { return true } else { return false } })
        return (dealing, try Darknode_V1_MPCMessage(serializedBytes: MPCWire.encode(dealing)))
    }

    static func expectRefused(_ wire: Darknode_V1_MPCMessage, _ reason: String) throws {
        let bytes: [UInt8] = try wire.serializedBytes()
        do {
            _ = try MPCWire.decode(bytes)
            Issue.record("accepted: \(reason)")
        } catch {
            guard case .decoding = error else {
                Issue.record("wrong error for \(reason): \(error)")
                return
            }
        }
    }

    @Test func malformedMessagesAreRefused() throws {
        let (_, valid) = try Self.validWire()
        var w = valid
        w.version = 2
        try Self.expectRefused(w, "unknown version")
        w = valid
        w.sessionID = Data(repeating: 1, count: 31)
        try Self.expectRefused(w, "short session id")
        for sender: UInt32 in [0, 256] {
            w = valid
            w.sender = sender
            try Self.expectRefused(w, "sender \(sender)")
        }
        w = valid
        w.round = 0
        try Self.expectRefused(w, "round 0")
        w = valid
        w.payload = nil
        try Self.expectRefused(w, "no payload")
        // A point that is not on the curve: G with its y coordinate changed.
        var offCurve = Point.generator.uncompressed
        offCurve[64] ^= 1
        w = valid
        w.dealing.ephemeralKey = Data(offCurve)
        try Self.expectRefused(w, "off-curve point")
        w = valid
        w.dealing.ephemeralKey = Data(Point.generator.compressed)
        try Self.expectRefused(w, "compressed point")
        w = valid
        w.dealing.ephemeralKey = Data([0])
        try Self.expectRefused(w, "identity as an ephemeral key")
        w = valid
        w.dealing.commitments[0].points[0] = Data([0x04] + Array(repeating: 2, count: 63))
        try Self.expectRefused(w, "64-byte point")
        w = valid
        w.dealing.commitments[0].points = Array(repeating: w.dealing.commitments[0].points[0], count: MPCWire.pointsPerVectorMax + 1)
        try Self.expectRefused(w, "too many points")
        // A scalar equal to the group order.
        var complaints = Darknode_V1_MPCMessage()
        complaints.version = 1
        complaints.sessionID = valid.sessionID
        complaints.sender = 1
        complaints.round = 2
        var disclosure = Darknode_V1_ShareDisclosure()
        disclosure.dealer = 2
        disclosure.sharedPoint = Data(Point.generator.uncompressed)
        disclosure.challenge = Data(Scalar.orderBytes)
        disclosure.response = Data(Scalar.one.bytes)
        complaints.complaints.disclosures = [disclosure]
        try Self.expectRefused(complaints, "scalar = n")
        disclosure.challenge = Data(Scalar.one.bytes)
        complaints.complaints.disclosures = [disclosure]
        #expect(throws: Never.self) { _ = try MPCWire.decode(try complaints.serializedBytes()) }
        // Unknown fields, truncation, and oversize input.
        let bytes: [UInt8] = try valid.serializedBytes()
        #expect(throws: MPCError.decoding("unknown field")) { _ = try MPCWire.decode(bytes + [0xF8, 0x07, 0x01]) }
        #expect(throws: MPCError.self) { _ = try MPCWire.decode(Array(bytes.dropLast())) }
        #expect(throws: MPCError.decoding("message exceeds \(Limits.messageBytesMax) bytes")) {
            _ = try MPCWire.decode([UInt8](repeating: 0, count: Limits.messageBytesMax + 1))
        }
    }

    @Test func equivocationIsJudgedOnReceivedBytes() throws {
        var rng = DeterministicRNG(seed: 91)
        let parameters = try CommitteeParameters(size: 4, threshold: 1)
        let identities = (0..<4).map { _ in MemberIdentity.random(using: &rng) }
        let session = SessionID(purpose: "keygen", epoch: 0, label: "bytes")
        var sessions = try (1...4).map { me in
            try KeyGenerationSession(
                session: session, parameters: parameters, me: me, identity: identities[me - 1],
                identities: identities.map(\.publicKey), rng: ForkedRNG(seed: UInt64(me)))
        }
        let dealing = try #require(sessions[1].start(now: .zero).first)
        _ = sessions[0].start(now: .zero)
        let bytes = MPCWire.encode(dealing)
        // The same message re-encoded differently (a repeated scalar field: protobuf keeps the last value).
        let other = bytes + [0x08, 0x01]
        let first = try MPCWire.decode(bytes)
        let second = try MPCWire.decode(other)
        #expect(first.payload == second.payload)
        try sessions[0].handle(first, now: .zero)
        #expect(throws: MPCError.duplicate) { try sessions[0].handle(try MPCWire.decode(bytes), now: .zero) }
        try sessions[0].handle(second, now: .zero)
        #expect(sessions[0].misbehaviour == [.equivocation(culprit: 2, round: 1)])
    }

    /// Seeded mutation fuzzing of the decoder: flipped, inserted, deleted bytes and truncations of real
    /// encodings. Whatever decodes is handed to a live session; nothing may trap, and malformed input must be
    /// refused with a typed error.
    @Test func mutatedEncodingsNeverTrap() throws {
        var rng = DeterministicRNG(seed: 92)
        let encodings = try Self.transcripts().map(MPCWire.encode)
        let parameters = try CommitteeParameters(size: 4, threshold: 1)
        let identities = (0..<4).map { _ in MemberIdentity.random(using: &rng) }
        let messages = try Self.transcripts()
        var session = try KeyGenerationSession(
            session: messages[0].session, parameters: parameters, me: 1, identity: identities[0],
            identities: identities.map(\.publicKey), rng: ForkedRNG(seed: 1))
        _ = session.start(now: .zero)
        var refused = 0, accepted = 0
        for _ in 0..<3_000 {
            var bytes = encodings[Int.random(in: 0..<encodings.count, using: &rng)]
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[at] ^= UInt8.random(in: 1...255, using: &rng)
                case 1: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: at)
                case 2: bytes.remove(at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            do {
                let message = try MPCWire.decode(bytes)
                accepted += 1
                try? session.handle(message, now: .zero)
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0 && accepted > 0)
    }
}
