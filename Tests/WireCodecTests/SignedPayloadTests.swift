import Foundation
import Secp256k1
import SwiftProtobuf
import Testing
import TestSupport
import WireCodec

/// Signed payloads: the signature covers the exact bytes received, under a domain string.
@Suite(.dedicatedThread) struct SignedPayloadTests {
    func sample() -> Darknode_V1_NodeInfo {
        var info = Darknode_V1_NodeInfo()
        info.version = "0.1.0"
        info.identityKey = Data(repeating: 2, count: 33)
        return info
    }

    @Test func roundTripVerifiesAndDecodes() throws {
        let key = PrivateKey.generate()
        let signed = try Darknode_V1_SignedPayload.signing(sample(), domain: "test/node-info", with: key)
        let wire: [UInt8] = try signed.serializedBytes()
        let received = try Darknode_V1_SignedPayload(serializedBytes: wire)
        let (signer, message) = try received.verified(as: Darknode_V1_NodeInfo.self, domain: "test/node-info")
        #expect(signer == key.publicKey)
        #expect(message == sample())
    }

    @Test func tamperingAndWrongDomainAreTypedErrors() throws {
        let key = PrivateKey.generate()
        let signed = try Darknode_V1_SignedPayload.signing(sample(), domain: "test/node-info", with: key)
        #expect(throws: SignedPayloadError.wrongDomain(expected: "other", actual: "test/node-info")) {
            try signed.verified(as: Darknode_V1_NodeInfo.self, domain: "other")
        }
        for i in 0..<signed.payload.count {
            var tampered = signed
            tampered.payload[tampered.payload.startIndex + i] ^= 0x01
            #expect(throws: SignedPayloadError.badSignature) {
                try tampered.verified(as: Darknode_V1_NodeInfo.self, domain: "test/node-info")
            }
        }
        var badSigner = signed
        badSigner.signer = Data([1, 2, 3])
        #expect(throws: SignedPayloadError.invalidSigner) {
            try badSigner.verified(as: Darknode_V1_NodeInfo.self, domain: "test/node-info")
        }
        var badSig = signed
        badSig.signature = Data(repeating: 0xFF, count: 64)
        #expect(throws: SignedPayloadError.malformedSignature) {
            try badSig.verified(as: Darknode_V1_NodeInfo.self, domain: "test/node-info")
        }
    }

    /// A re-encoding may differ from the received bytes (unknown fields, field order), so a verifier that
    /// re-encoded would reject valid messages; ours verifies what arrived.
    @Test func signatureCoversReceivedBytesEvenWithUnknownFields() throws {
        let key = PrivateKey.generate()
        // NodeInfo bytes followed by an unknown field 15 (varint 1).
        let payload: [UInt8] = try sample().serializedBytes() + [0x78, 0x01]
        let digest = Darknode_V1_SignedPayload.digest(domain: "d", payload: payload)
        var signed = Darknode_V1_SignedPayload()
        signed.payload = Data(payload)
        signed.signature = Data(try key.signature(for: digest).compact)
        signed.signer = Data(key.publicKey.compressed)
        signed.domain = "d"
        let (_, message) = try signed.verified(as: Darknode_V1_NodeInfo.self, domain: "d")
        #expect(message.version == "0.1.0")
    }
}
