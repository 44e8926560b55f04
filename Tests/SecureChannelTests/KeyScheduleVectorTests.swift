import Foundation
import Crypto
import Testing
import TestSupport

@testable import SecureChannel

/// Asylo's own vectors (asylo/grpc/auth/core/ekep_crypto_test.cc) and our derived consistency vectors.
@Suite(.dedicatedThread) struct KeyScheduleVectorTests {
    let ownPrivate = bytes(hex: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    let peerPublic = bytes(hex: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    let transcriptHash = bytes(hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

    func secrets() throws -> EKEPKeySchedule.HandshakeSecrets {
        let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: ownPrivate)
        return try EKEPKeySchedule.deriveSecrets(privateKey: key, peerPublicKey: peerPublic,
                                                 transcriptHash: transcriptHash)
    }

    @Test func transcriptHashIsSHA256OfAbc() {
        var t = Transcript()
        t.append(frame: Array("abc".utf8))
        #expect(t.snapshot == transcriptHash)
    }

    @Test func primaryAndAuthenticatorSecrets() throws {
        let s = try secrets()
        #expect(s.primarySecret == bytes(hex: "537271d5b1876f97d0a943a27cfa05fd4c97b90909f9fa209e94000cf2329f47"
                                            + "7ecca6f668b97b447774556d9eca9d7ef0aefb9667a0bbc3b81b8684aa7b53bf"))
        #expect(s.authenticatorSecret == bytes(hex: "24fcb3c5716e4d9fec12571677d5346138b608d846b09a374b84581761d6eae5"
                                                + "b7460dbf84dad1b7a30dcb8ad9190b5a7a519c74a316724a3460c3ca94efd2fc"))
    }

    @Test func recordKey() throws {
        #expect(try secrets().recordKey(transcriptHash: transcriptHash) == bytes(hex: "c7e0f5436c0fe4efdb6327469651b9fe"))
    }

    @Test func finishAuthenticators() throws {
        let s = try secrets()
        #expect(s.serverFinishAuthenticator
                == bytes(hex: "8489bdbd6e173857a289ad0ecfc8c911ea4cbf22983b55eee1ff7e8315992a81"))
        #expect(s.clientFinishAuthenticator
                == bytes(hex: "d43f4ef069507d34afee16b475c54cdca87d21daa04309f38deb7b01bd092ac9"))
        #expect(s.isValidAuthenticator(s.serverFinishAuthenticator, label: EKEPKeySchedule.serverFinishLabel))
        #expect(!s.isValidAuthenticator(s.clientFinishAuthenticator, label: EKEPKeySchedule.serverFinishLabel))
        #expect(!s.isValidAuthenticator(Array(s.serverFinishAuthenticator.prefix(31)),
                                        label: EKEPKeySchedule.serverFinishLabel))
    }

    @Test func sharedSecretIntermediate() throws {
        let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: ownPrivate)
        let z = try key.sharedSecretFromKeyAgreement(with: .init(rawRepresentation: peerPublic))
            .withUnsafeBytes { Array($0) }
        #expect(z == bytes(hex: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"))
    }

    @Test func peerKeyOfWrongLengthOrLowOrderIsRejected() throws {
        let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: ownPrivate)
        #expect(throws: EKEPKeySchedule.Failure.badPeerPublicKeyLength(31)) {
            try EKEPKeySchedule.deriveSecrets(privateKey: key, peerPublicKey: Array(peerPublic.prefix(31)),
                                              transcriptHash: transcriptHash)
        }
        // u = 0 and u = 1 are low-order points: the shared secret is all zero.
        for lowOrder in [[UInt8](repeating: 0, count: 32), [1] + [UInt8](repeating: 0, count: 31)] {
            #expect(throws: EKEPKeySchedule.Failure.lowOrderSharedSecret) {
                try EKEPKeySchedule.deriveSecrets(privateKey: key, peerPublicKey: lowOrder,
                                                  transcriptHash: transcriptHash)
            }
        }
    }

    @Test func bindingBlobAndNullAssertionBody() throws {
        let blob = EKEPBindingBlob.make(publicKey: peerPublic, transcriptHash: transcriptHash)
        #expect(blob == bytes(hex: "20000000de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
                                  + "20000000ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        let assertion = try NullAssertionGenerator().generate(for: NullAssertionVerifier().makeRequest(),
                                                              bindingBlob: blob)
        #expect(Array(assertion.assertion.prefix(6)) == bytes(hex: "0a4820000000"))
    }

    @Test func altsFramesOfHello() throws {
        let key = bytes(hex: "c7e0f5436c0fe4efdb6327469651b9fe")
        var client = ALTSRecordProtector(key: key, isClient: true)
        var server = ALTSRecordProtector(key: key, isClient: false)
        let hello = Array("hello".utf8)
        let c0 = try client.protect(hello)
        let c1 = try client.protect(hello)
        let s0 = try server.protect(hello)
        #expect(c0 == bytes(hex: "1900000006000000249f305391a52516058cbb5b20131053b3042ded6c"))
        #expect(c1 == bytes(hex: "19000000060000004e15efe9188a5fa3ee935c23f5d766243e33a437fe"))
        #expect(s0 == bytes(hex: "190000000600000024af771d093fb15441f613541bbb897af1282f373f"))
        #expect(try server.unprotect(c0 + c1) == hello + hello)
        #expect(try client.unprotect(s0) == hello)
    }
}
