import CSecp256k1
import Foundation
import Secp256k1
import TestSupport
import Testing

/// ECDSA against bitcoinjs/tiny-secp256k1's fixtures and noble-secp256k1's RFC 6979 nonces
/// (`Tests/Fixtures/crypto/rfc6979`).
@Suite(.dedicatedThread) struct ECDSAVectorTests {
    struct Fixtures: Decodable {
        struct Valid: Decodable {
            let d: String, m: String, signature: String, recoveryId: Int
        }
        struct Invalid: Decodable {
            struct Sign: Decodable { let description: String, d: String, m: String }
            struct Verify: Decodable { let description: String, Q: String, m: String, signature: String }
            struct Recover: Decodable { let description: String, m: String, signature: String, recoveryId: Int? }
            let sign: [Sign], verify: [Verify], recover: [Recover]
        }
        struct Entropy: Decodable {
            let d: String, m: String, signature: String
            let extraEntropy0: String, extraEntropy1: String, extraEntropyN: String, extraEntropyMax: String
        }
        let valid: [Valid], invalid: Invalid, extraEntropy: [Entropy]
    }

    struct NonceVector: Decodable { let message: String, d: String, k0: String, k1: String, k15: String }

    static let loaded = Result { try TestData.json("crypto/rfc6979/tiny-secp256k1_ecdsa.json", as: Fixtures.self) }
    static var fixtures: Fixtures { get throws { try loaded.get() } }

    func hex(_ s: String) -> [UInt8] { Hex.decode(s)! }

    @Test func everyValidVectorSignsVerifiesAndRecovers() throws {
        #expect(try Self.fixtures.valid.count == 2020)
        for v in try Self.fixtures.valid {
            let key = try PrivateKey(bytes: hex(v.d))
            let digest = hex(v.m)
            let sig = try key.signature(for: digest)
            #expect(Hex.encode(sig.compact) == v.signature)
            #expect(key.publicKey.isValidSignature(try ECDSASignature(compact: hex(v.signature)), for: digest))
            let rec = try key.recoverableSignature(for: digest)
            #expect(Int(rec.recoveryID) == v.recoveryId)
            #expect(try rec.recoverPublicKey(digest: digest) == key.publicKey)
            // DER round trip.
            #expect(try ECDSASignature(der: sig.der) == sig)
        }
    }

    @Test func extraEntropyVectors() throws {
        let zero = [UInt8](repeating: 0, count: 32)
        let one = zero.dropLast() + [1]
        let max = [UInt8](repeating: 0xFF, count: 32)
        for v in try Self.fixtures.extraEntropy {
            let key = try PrivateKey(bytes: hex(v.d))
            let digest = hex(v.m)
            #expect(Hex.encode(try key.signature(for: digest).compact) == v.signature)
            #expect(Hex.encode(try key.signature(for: digest, extraEntropy: zero).compact) == v.extraEntropy0)
            #expect(Hex.encode(try key.signature(for: digest, extraEntropy: Array(one)).compact) == v.extraEntropy1)
            #expect(Hex.encode(try key.signature(for: digest, extraEntropy: Scalar.orderBytes).compact) == v.extraEntropyN)
            #expect(Hex.encode(try key.signature(for: digest, extraEntropy: max).compact) == v.extraEntropyMax)
        }
    }

    /// Every invalid signing input is refused with its typed error: the fixtures' out-of-range keys when the key is
    /// made (the only way to sign), and, signing with a valid key, digests and extra entropy of the wrong length.
    /// libsecp256k1 itself also refuses to sign with each of the fixtures' keys.
    @Test func invalidSignInputsAreTypedErrors() throws {
        let invalid = try Self.fixtures.invalid.sign
        #expect(invalid.count == 4)
        let context = try #require(secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)))
        defer { secp256k1_context_destroy(context) }
        for v in invalid {
            let keyBytes = hex(v.d)
            let digest = hex(v.m)
            #expect(throws: ECDSAError.invalidPrivateKey, "\(v.description)") { try PrivateKey(bytes: keyBytes) }
            var signature = secp256k1_ecdsa_signature()
            let signed = secp256k1_ecdsa_sign(context, &signature, digest, keyBytes, secp256k1_nonce_function_rfc6979, nil)
            #expect(signed == 0, "libsecp256k1 signed with \(v.description)")
        }
        let key = try PrivateKey(bytes: hex(try Self.fixtures.valid[0].d))
        for length in [0, 31, 33, 64] {
            #expect(throws: ECDSAError.invalidDigestLength(length)) { try key.signature(for: [UInt8](repeating: 1, count: length)) }
        }
        for length in [0, 31, 33] {
            #expect(throws: ECDSAError.invalidExtraEntropy) {
                try key.signature(for: [UInt8](repeating: 1, count: 32), extraEntropy: [UInt8](repeating: 2, count: length))
            }
        }
        // The valid counterpart signs, so the refusals above are about the inputs.
        #expect(throws: Never.self) { try key.signature(for: [UInt8](repeating: 1, count: 32), extraEntropy: [UInt8](repeating: 2, count: 32)) }
    }

    @Test func invalidVerifyInputsAreRejected() throws {
        for v in try Self.fixtures.invalid.verify {
            let accepted: Bool = {
                guard let key = try? PublicKey(encoded: hex(v.Q)),
                    let sig = try? ECDSASignature(compact: hex(v.signature))
                else { return false }
                return key.isValidSignature(sig, for: hex(v.m))
            }()
            #expect(!accepted, "\(v.description)")
        }
    }

    @Test func invalidRecoverInputsAreRejected() throws {
        for v in try Self.fixtures.invalid.recover {
            let recovered: PublicKey? = {
                // Where the vector names a recovery id (e.g. 2, which needs r < p − n), only that id is tried.
                let ids: [UInt8] = v.recoveryId.map { [UInt8($0)] } ?? [0, 1]
                for id in ids {
                    if let rec = try? RecoverableSignature(compact: hex(v.signature), recoveryID: id),
                        let key = try? rec.recoverPublicKey(digest: hex(v.m))
                    {
                        return key
                    }
                }
                return nil
            }()
            #expect(recovered == nil, "\(v.description)")
        }
    }

    @Test func rfc6979NoncesMatchNoble() throws {
        let vectors = try TestData.json("crypto/rfc6979/noble_rfc6979_nonces.json", as: [NonceVector].self)
        #expect(vectors.count == 10)
        for v in vectors {
            let key = try PrivateKey(bytes: hex(v.d))
            let digest = BitcoinHash.sha256(Array(v.message.utf8))
            #expect(Hex.encode(rfc6979Nonce(privateKey: key, digest: digest, attempt: 0)) == v.k0)
            #expect(Hex.encode(rfc6979Nonce(privateKey: key, digest: digest, attempt: 1)) == v.k1)
            #expect(Hex.encode(rfc6979Nonce(privateKey: key, digest: digest, attempt: 15)) == v.k15)
        }
    }

    @Test func highSIsRejectedUntilNormalised() throws {
        let key = try PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [7])
        let digest = BitcoinHash.sha256(Array("high s".utf8))
        let sig = try key.signature(for: digest)
        let high = ECDSASignature(r: sig.r, s: -sig.s)
        #expect(high.isHighS && !sig.isHighS)
        #expect(!key.publicKey.isValidSignature(high, for: digest))
        #expect(key.publicKey.isValidSignature(high.normalized, for: digest))
    }

    @Test func malformedEncodingsAreTypedErrors() {
        #expect(throws: ECDSAError.invalidDER) { try ECDSASignature(der: [0x30, 0x00]) }
        #expect(throws: ECDSAError.invalidDER) { try ECDSASignature(der: []) }
        #expect(throws: ECDSAError.invalidDER) { try ECDSASignature(der: [UInt8](repeating: 0x30, count: 100)) }
        #expect(throws: ECDSAError.invalidCompact) { try ECDSASignature(compact: [UInt8](repeating: 0, count: 63)) }
        #expect(throws: ECDSAError.invalidCompact) { try ECDSASignature(compact: [UInt8](repeating: 0xFF, count: 64)) }
        #expect(throws: ECDSAError.invalidRecoverable) { try RecoverableSignature(evm: [UInt8](repeating: 1, count: 64) + [29]) }
        #expect(throws: ECDSAError.invalidPrivateKey) { try PrivateKey(bytes: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: ECDSAError.invalidPrivateKey) { try PrivateKey(bytes: Scalar.orderBytes) }
        #expect(throws: ECDSAError.invalidDigestLength(31)) {
            try PrivateKey.generate().signature(for: [UInt8](repeating: 0, count: 31))
        }
        // Fuzz the DER parser with random bytes: only typed errors or valid signatures, never a crash.
        var rng = SplitMix(seed: 9)
        for _ in 0..<20_000 {
            let length = Int(rng.next() % 80)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if length > 2 { bytes[0] = 0x30; bytes[1] = UInt8(length - 2) }
            if let sig = try? ECDSASignature(der: bytes) { #expect(sig.der.count <= 72) }
        }
    }

    @Test func evmAddressOfKnownKey() throws {
        // Private key 1: the widely published address of G.
        let key = try PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [1])
        #expect(key.publicKey.evmAddressString == "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")
        let digest = Keccak256.hash(Array("mint".utf8))
        let rec = try key.recoverableSignature(for: digest)
        #expect(rec.evm.count == 65 && (rec.evm[64] == 27 || rec.evm[64] == 28))
        #expect(try RecoverableSignature(evm: rec.evm).recoverPublicKey(digest: digest).evmAddress == key.publicKey.evmAddress)
    }
}
