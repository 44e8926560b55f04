import Foundation
import Crypto
import SimulationSupport
import SwiftProtobuf
import Testing
import TestSupport

@testable import SecureChannel

@Suite(.dedicatedThread) struct HandshakeTests {
    @Test func simulatedPeersAgreeOnKeyAndLearnEachOther() throws {
        let pair = SimulatedPair()
        var (client, server) = try pair.handshakers()
        let rec = runHandshake(client: &client, server: &server)
        let c = try #require(rec.clientResult)
        let s = try #require(rec.serverResult)
        #expect(c.recordKey == s.recordKey)
        #expect(c.recordKey.count == 16)
        #expect(c.unusedBytes.isEmpty && s.unusedBytes.isEmpty)
        #expect(c.peerIdentities.count == 1 && s.peerIdentities.count == 1)
        #expect(c.peerIdentities[0].identityKey == pair.server.identityKey.publicKey)
        #expect(s.peerIdentities[0].identityKey == pair.client.identityKey.publicKey)
        #expect(c.peerIdentities[0].evidence?.measurement == pair.server.measurement)
        #expect(s.peerIdentities[0].evidence?.measurement == pair.client.measurement)
        #expect(c.peerIdentities[0].evidence?.isSimulated == true)
        // Frame types on the wire, in order.
        #expect(rec.clientPrecommit[4] == 101 && rec.serverPrecommit[4] == 102 && rec.clientId[4] == 103)
        #expect(splitFrames(rec.serverIdAndFinish).map { $0[4] } == [104, 105])
        #expect(rec.clientFinish[4] == 106)
    }

    @Test func recordKeyIsHKDFOverTheWireTranscript() throws {
        // Recompute T3 and T5 from the recorded wire bytes with an independent hash pass, and check both sides'
        // key against HKDF(M, salt, T5) where M comes from the server's private key (derived from its RNG).
        let pair = SimulatedPair()
        var (client, server) = try pair.handshakers()
        let rec = runHandshake(client: &client, server: &server)
        let frames = splitFrames(rec.serverIdAndFinish)
        let t5 = Array(SHA256.hash(data: rec.clientPrecommit + rec.serverPrecommit + rec.clientId + frames[0]
                                   + frames[1] + rec.clientFinish))
        let t3 = Array(SHA256.hash(data: rec.clientPrecommit + rec.serverPrecommit + rec.clientId + frames[0]))
        // Re-derive from the client side's ephemeral key: replay the client with the same RNG seed.
        var replay = DeterministicRNG(seed: 7)
        var challengeAndKey = [UInt8]()
        for _ in 0..<8 { withUnsafeBytes(of: replay.next().littleEndian) { challengeAndKey += $0 } }
        let clientKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: challengeAndKey[32..<64])
        let serverId = try Asylo_ServerId(serializedBytes: Array(frames[0][8...]))
        let secrets = try EKEPKeySchedule.deriveSecrets(privateKey: clientKey, peerPublicKey: Array(serverId.dhPublicKey),
                                                        transcriptHash: t3)
        #expect(secrets.recordKey(transcriptHash: t5) == rec.clientResult?.recordKey)
        let finish = try Asylo_ServerFinish(serializedBytes: Array(frames[1][8...]))
        #expect(Array(finish.handshakeAuthenticator) == secrets.serverFinishAuthenticator)
    }

    @Test func nullAssertionsWorkOnlyWithTheTestSwitch() throws {
        #expect(throws: HandshakeConfiguration.Failure.nullAssertionsRefused) {
            try HandshakeConfiguration(selfAssertions: [NullAssertionGenerator()],
                                       acceptedPeerAssertions: [NullAssertionVerifier()])
        }
        let pair = SimulatedPair()
        #expect(throws: HandshakeConfiguration.Failure.nullAssertionsRefused) {
            try HandshakeConfiguration(selfAssertions: [pair.client.generator],
                                       acceptedPeerAssertions: [NullAssertionVerifier()])
        }
        var client = EKEPHandshaker(role: .client, configuration: try nullConfiguration(), rng: DeterministicRNG(seed: 1))
        var server = EKEPHandshaker(role: .server, configuration: try nullConfiguration(), rng: DeterministicRNG(seed: 2))
        let rec = runHandshake(client: &client, server: &server)
        #expect(rec.clientResult?.recordKey == rec.serverResult?.recordKey)
        #expect(rec.clientResult?.peerIdentities.first?.enclaveIdentity.identity == Data("Null Identity".utf8))
    }

    @Test func additionalAuthenticatedDataReachesThePeer() throws {
        let pair = SimulatedPair()
        let configs = try pair.configurations(aad: Array("shard 7".utf8))
        var client = EKEPHandshaker(role: .client, configuration: configs.client, rng: DeterministicRNG(seed: 3))
        var server = EKEPHandshaker(role: .server, configuration: configs.server, rng: DeterministicRNG(seed: 4))
        let rec = runHandshake(client: &client, server: &server)
        #expect(rec.serverResult?.peerAdditionalAuthenticatedData == Array("shard 7".utf8))
        #expect(rec.clientResult?.peerAdditionalAuthenticatedData == Array("shard 7".utf8))
    }

    @Test func byteAtATimeDeliveryAndLeftoverRecordBytes() throws {
        let pair = SimulatedPair()
        var (client, server) = try pair.handshakers(seed: 11)
        var toServer = client.start().bytesToSend
        var toClient: [UInt8] = []
        var clientResult: HandshakeResult?
        var serverResult: HandshakeResult?
        var rounds = 0
        while (clientResult == nil || serverResult == nil) && rounds < 10 {
            rounds += 1
            if serverResult == nil {
                for b in toServer {
                    let step = server.receive([b])
                    toClient += step.bytesToSend
                    if case .completed(let r) = step.outcome { serverResult = r }
                    if case .failed(let f) = step.outcome { Issue.record("server failed: \(f)") }
                }
                toServer = []
            }
            if clientResult == nil {
                for b in toClient {
                    let step = client.receive([b])
                    toServer += step.bytesToSend
                    if case .completed(let r) = step.outcome {
                        clientResult = r
                    }
                    if case .failed(let f) = step.outcome { Issue.record("client failed: \(f)") }
                }
                toClient = []
                if let r = clientResult, serverResult == nil {
                    // The client's first record frame travels with ClientFinish.
                    var protector = r.makeRecordProtector()
                    toServer += try protector.protect(Array("early".utf8))
                    let step = server.receive(toServer)
                    toServer = []
                    if case .completed(let sr) = step.outcome { serverResult = sr }
                }
            }
        }
        let s = try #require(serverResult)
        let c = try #require(clientResult)
        var serverProtector = s.makeRecordProtector()
        #expect(try serverProtector.unprotect(s.unusedBytes) == Array("early".utf8))
        #expect(c.recordKey == s.recordKey)
    }

    @Test func transcriptDependsOnEveryByteSoDifferentRunsGiveDifferentKeys() throws {
        let pair = SimulatedPair()
        var (c1, s1) = try pair.handshakers(seed: 1)
        var (c2, s2) = try pair.handshakers(seed: 2)
        let r1 = runHandshake(client: &c1, server: &s1)
        let r2 = runHandshake(client: &c2, server: &s2)
        #expect(r1.clientResult?.recordKey != nil)
        #expect(r1.clientResult?.recordKey != r2.clientResult?.recordKey)
    }
}
