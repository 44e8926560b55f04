import Foundation
import Attestation
import Crypto
import Secp256k1
import SimulationSupport
import SwiftProtobuf
import Testing
import TestSupport

@testable import SecureChannel

/// Every way a handshake can be attacked ends with the right abort code and no open channel on the detecting side.
@Suite(.dedicatedThread) struct HandshakeNegativeTests {
    let pair = SimulatedPair()

    func drive(seed: UInt64 = 7, tamper: (Int, [UInt8]) throws -> [UInt8]) throws -> DrivenHandshake {
        var (client, server) = try pair.handshakers(seed: seed)
        var thrown: Error?
        let result = driveHandshake(client: &client, server: &server) { n, b in
            do { return try tamper(n, b) } catch { thrown = error; return b }
        }
        if let thrown { throw thrown }
        return result
    }

    // MARK: tampering with each message

    @Test func tamperedClientPrecommitChallengeBreaksTheServersBinding() throws {
        let r = try drive { n, b in
            n == 0 ? try reframe(b, as: Asylo_ClientPrecommit.self) { $0.challenge[0] ^= 1 } : b
        }
        // The client binds its assertion to its own T1; the server checks against the tampered T1.
        #expect(r.server.failure?.code == .badAssertion)
        #expect(!r.bothCompleted && r.client.result == nil)
    }

    @Test func tamperedServerPrecommitChallenge() throws {
        let r = try drive { n, b in
            n == 1 ? try reframe(b, as: Asylo_ServerPrecommit.self) { $0.challenge[5] ^= 0x80 } : b
        }
        #expect(r.server.failure?.code == .badAssertion)
        #expect(r.client.failure?.code == .badAssertion)  // learned from the server's Abort
        if case .peerAborted = r.client.failure {} else { Issue.record("client should see the server's Abort") }
    }

    @Test func tamperedClientIdKeyOrAssertion() throws {
        let key = try drive { n, b in n == 2 ? try reframe(b, as: Asylo_ClientId.self) { $0.dhPublicKey[0] ^= 1 } : b }
        #expect(key.server.failure?.code == .badAssertion)
        let evidence = try drive { n, b in
            n == 2 ? try reframe(b, as: Asylo_ClientId.self) { $0.assertions[0].assertion[20] ^= 1 } : b
        }
        #expect(evidence.server.failure?.code == .badAssertion)
    }

    @Test func tamperedServerIdKey() throws {
        let r = try drive { n, b in
            guard n == 3 else { return b }
            let frames = splitFrames(b)
            return try reframe(frames[0], as: Asylo_ServerId.self) { $0.dhPublicKey[31] ^= 1 } + frames[1]
        }
        #expect(r.client.failure?.code == .badAssertion)
        #expect(r.server.result == nil)
    }

    @Test func tamperedServerFinish() throws {
        let r = try drive { n, b in
            guard n == 3 else { return b }
            let frames = splitFrames(b)
            return frames[0] + (try reframe(frames[1], as: Asylo_ServerFinish.self) { $0.handshakeAuthenticator[0] ^= 1 })
        }
        #expect(r.client.failure?.code == .badAuthenticator)
        #expect(r.server.failure?.code == .badAuthenticator)  // via Abort
    }

    @Test func tamperedClientFinishClosesSilently() throws {
        let r = try drive { n, b in
            n == 4 ? try reframe(b, as: Asylo_ClientFinish.self) { $0.handshakeAuthenticator[31] ^= 1 } : b
        }
        guard case .closedSilently(.badAuthenticator, _)? = r.server.failure else {
            Issue.record("expected a silent close, got \(String(describing: r.server.failure))")
            return
        }
        #expect(r.server.result == nil)
    }

    /// Flips one bit at every byte of every flight: the handshake never completes on both sides, and the detecting
    /// side reports a code from the set that byte can cause.
    @Test func everySingleBitFlipInEveryFlightIsDetected() throws {
        var (c0, s0) = try pair.handshakers(seed: 21)
        let honest = runHandshake(client: &c0, server: &s0)
        let flights = [honest.clientPrecommit, honest.serverPrecommit, honest.clientId, honest.serverIdAndFinish,
                       honest.clientFinish]
        let allowed: Set<EKEPAbortCode> = [.badMessage, .protocolError, .deserializationFailed, .badProtocolVersion,
                                           .badHandshakeCipher, .badRecordProtocol, .badAssertionType, .badAssertion,
                                           .badAuthenticator]
        var checked = 0
        for (index, flight) in flights.enumerated() {
            // Every byte of small flights; a stride over the evidence-heavy ones keeps the debug run short.
            let stride = flight.count > 400 ? 3 : 1
            // Offsets of every frame-size field in this flight: a flip there can announce a longer frame.
            var sizeFields = Set<Int>()
            var offset = 0
            for frame in splitFrames(flight) {
                sizeFields.formUnion(offset..<(offset + 4))
                offset += frame.count
            }
            for position in Swift.stride(from: 0, to: flight.count, by: stride) {
                var (client, server) = try pair.handshakers(seed: 21)
                let r = driveHandshake(client: &client, server: &server) { n, b in
                    guard n == index else { return b }
                    var t = b
                    t[position] ^= 0x04
                    return t
                }
                checked += 1
                #expect(!r.bothCompleted, "flight \(index) byte \(position) went undetected")
                if r.server.result != nil { Issue.record("server opened despite flight \(index) byte \(position)") }
                if let failure = r.detected {
                    #expect(allowed.contains(failure.code), "flight \(index) byte \(position): \(failure)")
                } else {
                    // Only a larger announced frame size can leave both sides waiting for more bytes.
                    let stillWaiting = r.client.failure == nil && r.server.failure == nil
                    #expect(stillWaiting && sizeFields.contains(position),
                            "flight \(index) byte \(position): no failure reported")
                }
            }
        }
        #expect(checked == flights.reduce(0) { $0 + ($1.count > 400 ? ($1.count + 2) / 3 : $1.count) })
    }

    // MARK: truncation, duplication, reordering, replay

    @Test func truncatedFramesWaitThenFailOnEOF() throws {
        var (client, server) = try pair.handshakers()
        let precommit = client.start().bytesToSend
        let step = server.receive(precommit.dropLast(3))
        guard case .inProgress = step.outcome else { Issue.record("should wait for more"); return }
        #expect(step.bytesToSend.isEmpty)
        #expect(server.connectionClosed() == .connectionClosed(reason: "EOF"))
    }

    @Test func truncatedBodyWithConsistentHeaderFailsToParse() throws {
        let r = try drive { n, b in
            guard n == 2 else { return b }
            return HandshakeFrame.encode(type: 103, body: Array(b[8..<(b.count - 5)]))
        }
        #expect(r.server.failure?.code == .deserializationFailed)
    }

    @Test func duplicatedMessages() throws {
        // A duplicate delivered in a later read is unexpected.
        var (client, server) = try pair.handshakers()
        let precommit = client.start().bytesToSend
        _ = server.receive(precommit)
        #expect(Outcome(server.receive(precommit).outcome).failure?.code == .protocolError)
        // A duplicate in the same read leaves bytes behind a step that produced output.
        var (client2, server2) = try pair.handshakers()
        let p2 = client2.start().bytesToSend
        #expect(Outcome(server2.receive(p2 + p2).outcome).failure?.code == .badMessage)
        // Duplicated ServerFinish after the client completed: the handshaker refuses further input.
        var (c3, s3) = try pair.handshakers()
        let rec = runHandshake(client: &c3, server: &s3)
        #expect(rec.clientResult != nil)
        if case .failed(.misuse) = c3.receive(rec.serverIdAndFinish).outcome {} else { Issue.record("no misuse") }
    }

    @Test func reorderedMessages() throws {
        var (client, server) = try pair.handshakers()
        var (c2, s2) = try pair.handshakers(seed: 8)
        let rec = runHandshake(client: &c2, server: &s2)
        _ = client.start()
        // ClientId before ClientPrecommit.
        #expect(Outcome(server.receive(rec.clientId).outcome).failure?.code == .protocolError)
        // ServerFinish before ServerId.
        var (c3, s3) = try pair.handshakers(seed: 8)
        let p = c3.start().bytesToSend
        let sp = s3.receive(p).bytesToSend
        let cid = c3.receive(sp).bytesToSend
        let frames = splitFrames(s3.receive(cid).bytesToSend)
        #expect(Outcome(c3.receive(frames[1] + frames[0]).outcome).failure?.code == .protocolError)
    }

    @Test func messagesReplayedFromAnotherConnection() throws {
        var (cA, sA) = try pair.handshakers(seed: 100)
        let other = runHandshake(client: &cA, server: &sA)
        #expect(other.serverResult != nil)
        let otherServerFrames = splitFrames(other.serverIdAndFinish)
        // ClientId replayed into a new connection: bound to the old transcript.
        let r1 = try drive(seed: 200) { n, b in n == 2 ? other.clientId : b }
        #expect(r1.server.failure?.code == .badAssertion)
        // ServerId (with its finish) replayed.
        let r2 = try drive(seed: 201) { n, b in n == 3 ? other.serverIdAndFinish : b }
        #expect(r2.client.failure?.code == .badAssertion)
        // Only the ServerFinish replayed: the authenticator secret differs.
        let r3 = try drive(seed: 202) { n, b in n == 3 ? splitFrames(b)[0] + otherServerFrames[1] : b }
        #expect(r3.client.failure?.code == .badAuthenticator)
        // ClientFinish replayed.
        let r4 = try drive(seed: 203) { n, b in n == 4 ? other.clientFinish : b }
        #expect(r4.server.failure?.code == .badAuthenticator && r4.server.result == nil)
        // ServerPrecommit replayed: the client binds to the replayed challenge, which the server never sent.
        let r5 = try drive(seed: 204) { n, b in n == 1 ? other.serverPrecommit : b }
        #expect(r5.server.failure?.code == .badAssertion)
    }

    // MARK: assertions and policy

    @Test func missingAssertion() throws {
        let r = try drive { n, b in n == 2 ? try reframe(b, as: Asylo_ClientId.self) { $0.assertions = [] } : b }
        #expect(r.server.failure?.code == .badAssertion)
        let r2 = try drive { n, b in
            guard n == 3 else { return b }
            let f = splitFrames(b)
            return try reframe(f[0], as: Asylo_ServerId.self) { $0.assertions = [] } + f[1]
        }
        #expect(r2.client.failure?.code == .badAssertion)
    }

    @Test func wrongAssertions() throws {
        // A null assertion in place of the simulated one.
        let r = try drive { n, b in
            guard n == 2 else { return b }
            return try reframe(b, as: Asylo_ClientId.self) { id in
                id.assertions = [try! NullAssertionGenerator().generate(for: NullAssertionVerifier().makeRequest(),
                                                                       bindingBlob: [])]
            }
        }
        #expect(r.server.failure?.code == .badAssertion)
        // Evidence from a different platform key and identity key, correctly formed but bound to another blob.
        let stranger = SimulatedNode(seed: 99, measurement: pair.client.measurement)
        let r2 = try drive { n, b in
            guard n == 2 else { return b }
            return try reframe(b, as: Asylo_ClientId.self) { id in
                id.assertions = [try! stranger.generator.generate(for: id.assertions[0].asRequest,
                                                                  bindingBlob: [UInt8](repeating: 0, count: 72))]
            }
        }
        #expect(r2.server.failure?.code == .badAssertion)
        // Two copies of the same assertion (one expected).
        let r3 = try drive { n, b in
            n == 2 ? try reframe(b, as: Asylo_ClientId.self) { $0.assertions.append($0.assertions[0]) } : b
        }
        #expect(r3.server.failure?.code == .badAssertion)
    }

    @Test func identitySignatureMustMatchTheBoundKey() throws {
        // Evidence correctly bound to identity key K, but signed with another key: rejected.
        let blob = [UInt8](repeating: 7, count: 72)
        let node = pair.client
        let evidence = try SimulatedEvidence.sign(
            measurement: node.measurement,
            reportData: BoundEvidence.reportData(identityKey: node.identityKey.publicKey, bindingBlob: blob),
            platformKey: node.platformKey)
        var body = Darknode_Ekep_BoundEvidenceAssertion()
        body.evidence = Data(evidence.encoded)
        body.identityPublicKey = Data(node.identityKey.publicKey.compressed)
        body.identitySignature = Data(try SimulatedNode(seed: 5).identityKey
            .signature(for: BoundEvidence.identityDigest(bindingBlob: blob)).compact)
        var assertion = Asylo_Assertion()
        assertion.description_p = node.generator.assertionDescription
        assertion.assertion = try body.serializedData()
        let verifier = simulatedVerifier(allowing: [node.measurement])
        #expect(throws: AssertionError.identitySignatureInvalid) { try verifier.verify(assertion, bindingBlob: blob) }
        // The honest assertion verifies.
        let honest = try node.generator.generate(for: verifier.makeRequest(), bindingBlob: blob)
        #expect(try verifier.verify(honest, bindingBlob: blob).identityKey == node.identityKey.publicKey)
        // A forged platform signature is rejected.
        var forged = try Darknode_Ekep_BoundEvidenceAssertion(serializedBytes: Array(honest.assertion))
        forged.evidence[150] ^= 1
        var forgedAssertion = honest
        forgedAssertion.assertion = try forged.serializedData()
        #expect(throws: AssertionError.self) { try verifier.verify(forgedAssertion, bindingBlob: blob) }
    }

    @Test func measurementOutsidePolicy() throws {
        let outsider = SimulatedNode(seed: 3)
        let verifier = simulatedVerifier(allowing: [pair.server.measurement])
        var client = EKEPHandshaker(
            role: .client,
            configuration: try HandshakeConfiguration(selfAssertions: [outsider.generator],
                                                      acceptedPeerAssertions: [verifier]),
            rng: DeterministicRNG(seed: 1))
        var server = EKEPHandshaker(
            role: .server,
            configuration: try HandshakeConfiguration(selfAssertions: [pair.server.generator],
                                                      acceptedPeerAssertions: [verifier]),
            rng: DeterministicRNG(seed: 2))
        let r = driveHandshake(client: &client, server: &server)
        guard case .aborted(.badAssertion, let reason)? = r.server.failure else {
            Issue.record("expected BAD_ASSERTION, got \(String(describing: r.server.failure))")
            return
        }
        #expect(reason.contains("MeasurementAllowListPolicy"))
        #expect(r.client.failure?.code == .badAssertion)
    }

    @Test func simulationRefusedByAProductionPolicy() throws {
        let strict = simulatedVerifier(allowing: [pair.client.measurement, pair.server.measurement],
                                       allowSimulation: false)
        let lax = simulatedVerifier(allowing: [pair.client.measurement, pair.server.measurement])
        var client = EKEPHandshaker(
            role: .client,
            configuration: try HandshakeConfiguration(selfAssertions: [pair.client.generator],
                                                      acceptedPeerAssertions: [lax]), rng: DeterministicRNG(seed: 1))
        var server = EKEPHandshaker(
            role: .server,
            configuration: try HandshakeConfiguration(selfAssertions: [pair.server.generator],
                                                      acceptedPeerAssertions: [strict]),
            rng: DeterministicRNG(seed: 2))
        let r = driveHandshake(client: &client, server: &server)
        #expect(r.server.failure?.code == .badAssertion)
    }

    @Test func nullOfferToASimulatedNodeHasNoCommonAssertionType() throws {
        var client = EKEPHandshaker(role: .client, configuration: try nullConfiguration(), rng: DeterministicRNG(seed: 1))
        var server = try pair.handshakers().server
        let r = driveHandshake(client: &client, server: &server)
        #expect(r.server.failure?.code == .badAssertionType)
        #expect(r.client.failure?.code == .badAssertionType)
    }

    // MARK: negotiation and framing

    @Test func negotiationFailures() throws {
        func serverCode(_ edit: @escaping (inout Asylo_ClientPrecommit) -> Void) throws -> EKEPAbortCode? {
            try drive { n, b in n == 0 ? try reframe(b, as: Asylo_ClientPrecommit.self, edit) : b }.server.failure?.code
        }
        #expect(try serverCode { $0.availableEkepVersions[0].name = "EKEP v2" } == .badProtocolVersion)
        #expect(try serverCode { $0.availableCipherSuites = [] } == .badHandshakeCipher)
        #expect(try serverCode { $0.availableRecordProtocols = [.unknownRecordProtocol] } == .badRecordProtocol)
        #expect(try serverCode { $0.challenge = Data($0.challenge.prefix(31)) } == .protocolError)
        #expect(try serverCode { $0.clientOffers = [] } == .badAssertionType)
        #expect(try serverCode { $0.clientRequests[0].additionalInformation = Data() } == .badAssertionType)

        func clientCode(_ edit: @escaping (inout Asylo_ServerPrecommit) -> Void) throws -> EKEPAbortCode? {
            try drive { n, b in n == 1 ? try reframe(b, as: Asylo_ServerPrecommit.self, edit) : b }.client.failure?.code
        }
        #expect(try clientCode { $0.selectedEkepVersion.name = "EKEP v0" } == .protocolError)
        #expect(try clientCode { $0.clearSelectedCipherSuite() } == .protocolError)
        #expect(try clientCode { $0.selectedRecordProtocol = .unknownRecordProtocol } == .protocolError)
        #expect(try clientCode { $0.challenge = Data() } == .protocolError)
        #expect(try clientCode { $0.serverRequests = [] } == .protocolError)
        #expect(try clientCode { $0.serverOffers[0].description_p.authorityType = "SGX Local" } == .protocolError)
    }

    @Test func packedAndUnpackedEnumsBothParse() throws {
        // proto2 repeated enums are unpacked on the wire; a packed encoding must be accepted too.
        var (client, server) = try pair.handshakers()
        let frame = client.start().bytesToSend
        var message = try Asylo_ClientPrecommit(serializedBytes: Array(frame[8...]))
        let unpacked: [UInt8] = try message.serializedBytes()
        #expect(unpacked.contains(0x10))  // field 2, varint wire type
        message.availableCipherSuites = []
        message.availableRecordProtocols = []
        let packed = try message.serializedBytes() + [0x12, 0x01, 0x01, 0x1A, 0x01, 0x01]
        let step = server.receive(HandshakeFrame.encode(type: 101, body: packed))
        guard case .inProgress = step.outcome else { Issue.record("packed form rejected"); return }
        #expect(!step.bytesToSend.isEmpty)
    }

    @Test func frameHeaderErrors() throws {
        let config = try pair.configurations().server
        func firstFailure(_ bytes: [UInt8]) -> HandshakeFailure? {
            var server = EKEPHandshaker(role: .server, configuration: config, rng: DeterministicRNG(seed: 1))
            return Outcome(server.receive(bytes).outcome).failure
        }
        // Oversize: one byte over the 1 MiB limit; fails as soon as the header is in.
        #expect(firstFailure([0x01, 0x00, 0x10, 0x00, 101, 0, 0, 0])?.code == .badMessage)
        #expect(firstFailure([0x03, 0, 0, 0, 101, 0, 0, 0])?.code == .badMessage)
        #expect(firstFailure([0x04, 0, 0, 0, 0, 0, 0, 0])?.code == .badMessage)
        #expect(firstFailure([0x04, 0, 0, 0, 107, 0, 0, 0])?.code == .badMessage)
        #expect(firstFailure([0x04, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])?.code == .badMessage)
        #expect(firstFailure([0x04, 0, 0, 0, 105, 0, 0, 0])?.code == .protocolError)
        #expect(firstFailure([0x05, 0, 0, 0, 101, 0, 0, 0, 0xFF])?.code == .deserializationFailed)
        // Abort from the peer: reported, never answered.
        var abort = Asylo_Abort()
        abort.code = .badAssertion
        abort.message = "no"
        var server = EKEPHandshaker(role: .server, configuration: config, rng: DeterministicRNG(seed: 1))
        let step = server.receive(HandshakeFrame.encode(type: 100, body: try abort.serializedBytes()))
        #expect(step.bytesToSend.isEmpty)
        #expect(Outcome(step.outcome).failure == .peerAborted(code: .badAssertion, message: "no"))
        #expect(firstFailure(HandshakeFrame.encode(type: 100, body: [0xFF])) == .malformedPeerAbort)
        // A client that receives bytes before starting.
        var client = EKEPHandshaker(role: .client, configuration: try pair.configurations().client)
        #expect(Outcome(client.receive([0]).outcome).failure?.code == .badMessage)
        // An outgoing message over the limit is an internal error.
        #expect(throws: HandshakeFailure.self) {
            var big = Asylo_Abort()
            big.message = String(repeating: "x", count: 2000)
            _ = try HandshakeFrame.encode(type: .abort, message: big, maxFrameSize: 1024)
        }
    }

    @Test func abortFramesCarryTheCodeAndStayOutOfTheTranscript() throws {
        var server = EKEPHandshaker(role: .server, configuration: try pair.configurations().server)
        let step = server.receive([0x04, 0, 0, 0, 106, 0, 0, 0])
        #expect(step.bytesToSend[4] == 100)
        let abort = try Asylo_Abort(serializedBytes: Array(step.bytesToSend[8...]))
        #expect(abort.code == .protocolError)
    }
}

extension Asylo_Assertion {
    var asRequest: Asylo_AssertionRequest {
        var r = Asylo_AssertionRequest()
        r.description_p = description_p
        r.additionalInformation = Data(BoundEvidence.requestInformation)
        return r
    }
}
