#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// EKEP v1's cryptography for the `CURVE25519_SHA256` suite (Asylo `ekep_crypto.cc`).
///
/// X25519 → HKDF-SHA256(salt "EKEP Handshake v1", info T3, 128 bytes) = primary secret M ‖ authenticator secret A;
/// Finish values are HMAC-SHA256(A, fixed label); the record key is HKDF-SHA256(M, salt "EKEP Record Protocol v1",
/// info T5, 16 bytes). Labels carry no NUL terminator.
public enum EKEPKeySchedule {
    public static let handshakeSalt = Array("EKEP Handshake v1".utf8)
    public static let recordProtocolSalt = Array("EKEP Record Protocol v1".utf8)
    public static let serverFinishLabel = Array("EKEP Handshake v1: Server Finish".utf8)
    public static let clientFinishLabel = Array("EKEP Handshake v1: Client Finish".utf8)
    /// X25519 public values and shared secrets are 32 bytes.
    public static let publicKeyLength = 32
    /// The record key is an AES-128 key.
    public static let recordKeyLength = 16

    /// Why key derivation failed.
    public enum Failure: Error, Equatable, Sendable {
        /// The peer's DH public value is not 32 bytes (EKEP: PROTOCOL_ERROR).
        case badPeerPublicKeyLength(Int)
        /// X25519 gave the all-zero output: the peer sent a low-order point (EKEP: INTERNAL_ERROR, as BoringSSL).
        case lowOrderSharedSecret
    }

    /// The two 64-byte secrets derived from the handshake.
    public struct HandshakeSecrets: Sendable {
        /// M: input to the record-key derivation. Secret.
        public let primarySecret: [UInt8]
        /// A: the HMAC key of both Finish messages. Secret.
        public let authenticatorSecret: [UInt8]

        /// The ServerFinish handshake authenticator.
        public var serverFinishAuthenticator: [UInt8] { authenticator(label: EKEPKeySchedule.serverFinishLabel) }
        /// The ClientFinish handshake authenticator.
        public var clientFinishAuthenticator: [UInt8] { authenticator(label: EKEPKeySchedule.clientFinishLabel) }

        func authenticator(label: [UInt8]) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: label, using: SymmetricKey(data: authenticatorSecret)))
        }

        /// Constant-time check of a received authenticator against the expected label; a length mismatch fails.
        func isValidAuthenticator(_ received: [UInt8], label: [UInt8]) -> Bool {
            HMAC<SHA256>.isValidAuthenticationCode(received, authenticating: label,
                                                   using: SymmetricKey(data: authenticatorSecret))
        }

        /// K = HKDF-SHA256(IKM = M, salt = "EKEP Record Protocol v1", info = T5, L = 16).
        public func recordKey(transcriptHash: [UInt8]) -> [UInt8] {
            hkdf(inputKeyMaterial: primarySecret, salt: EKEPKeySchedule.recordProtocolSalt, info: transcriptHash,
                 length: EKEPKeySchedule.recordKeyLength)
        }
    }

    /// DeriveSecrets: X25519 with the peer's public value, then HKDF over the shared secret with info T3.
    public static func deriveSecrets(privateKey: Curve25519.KeyAgreement.PrivateKey, peerPublicKey: [UInt8],
                                     transcriptHash: [UInt8]) throws(Failure) -> HandshakeSecrets
    {
        guard peerPublicKey.count == publicKeyLength else { throw .badPeerPublicKeyLength(peerPublicKey.count) }
        let shared: [UInt8]
        do {
            let peer = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: peerPublicKey)
            shared = try privateKey.sharedSecretFromKeyAgreement(with: peer).withUnsafeBytes { Array($0) }
        } catch {
            throw .lowOrderSharedSecret
        }
        // Constant-time all-zero test: OR every byte together.
        guard shared.reduce(0, |) != 0 else { throw .lowOrderSharedSecret }
        let okm = hkdf(inputKeyMaterial: shared, salt: handshakeSalt, info: transcriptHash, length: 128)
        return HandshakeSecrets(primarySecret: Array(okm[0..<64]), authenticatorSecret: Array(okm[64..<128]))
    }

    static func hkdf(inputKeyMaterial: [UInt8], salt: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: inputKeyMaterial), salt: salt, info: info,
                               outputByteCount: length).withUnsafeBytes { Array($0) }
    }
}

/// `SerializeByteContainers`: each item prefixed by its LE32 length. The EKEP binding blob is
/// `Blob(dh_public_key, transcript hash)`, 72 bytes for X25519/SHA-256; every assertion is made over it.
public enum EKEPBindingBlob {
    public static func make(publicKey: [UInt8], transcriptHash: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(8 + publicKey.count + transcriptHash.count)
        HandshakeFrame.appendLittleEndian(UInt32(truncatingIfNeeded: publicKey.count), to: &out)
        out += publicKey
        HandshakeFrame.appendLittleEndian(UInt32(truncatingIfNeeded: transcriptHash.count), to: &out)
        out += transcriptHash
        return out
    }
}
