import Crypto
import Foundation
import Secp256k1
import SwiftProtobuf

/// Why a signed payload was refused.
public enum SignedPayloadError: Error, Equatable, Sendable {
    /// The domain string is not the one the receiver expects.
    case wrongDomain(expected: String, actual: String)
    /// The signer field is not a valid compressed public key.
    case invalidSigner
    /// The signature field is not a 64-byte compact signature.
    case malformedSignature
    /// The signature does not verify over SHA-256(domain ‖ 0x00 ‖ payload) under the signer key.
    case badSignature
    /// The signature verified but the payload bytes do not decode as the expected message.
    case undecodablePayload
}

extension Darknode_V1_SignedPayload {
    /// The digest a signer signs: SHA-256(domain ‖ 0x00 ‖ payload). The domain keeps a signature made for one
    /// message type from being replayed as another.
    public static func digest(domain: String, payload: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array(domain.utf8))
        hasher.update(data: [0])
        hasher.update(data: payload)
        return Array(hasher.finalize())
    }

    /// Serializes `message` once and signs exactly those bytes.
    public static func signing(_ message: some SwiftProtobuf.Message, domain: String, with key: PrivateKey) throws
        -> Darknode_V1_SignedPayload
    {
        let payload: [UInt8] = try message.serializedBytes()
        let signature = try key.signature(for: digest(domain: domain, payload: payload))
        var signed = Darknode_V1_SignedPayload()
        signed.payload = Data(payload)
        signed.signature = Data(signature.compact)
        signed.signer = Data(key.publicKey.compressed)
        signed.domain = domain
        return signed
    }

    /// Verifies the signature over the payload bytes as received, then decodes them.
    /// Returns the signer and the message; nothing is decoded before the signature checks out.
    public func verified<M: SwiftProtobuf.Message>(as type: M.Type, domain expected: String) throws(SignedPayloadError)
        -> (signer: PublicKey, message: M)
    {
        guard domain == expected else { throw .wrongDomain(expected: expected, actual: domain) }
        guard signer.count == 33, let key = try? PublicKey(encoded: Array(signer)) else { throw .invalidSigner }
        guard let sig = try? ECDSASignature(compact: Array(signature)) else { throw .malformedSignature }
        let bytes = Array(payload)
        guard key.isValidSignature(sig, for: Self.digest(domain: domain, payload: bytes)) else {
            throw .badSignature
        }
        guard let message = try? M(serializedBytes: bytes) else { throw .undecodablePayload }
        return (key, message)
    }
}
