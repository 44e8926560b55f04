import Crypto
import Secp256k1

/// Encrypts a receiver's shares inside a dealer's broadcast (ECIES on secp256k1): S = e·PK_receiver for the
/// dealing's ephemeral key E = e·G, a ChaCha20-Poly1305 key from HKDF-SHA256(S; salt = session; info = tag,
/// dealer, receiver, E), a zero nonce (each key encrypts exactly one message), and the session, dealer and
/// receiver as associated data. The receiver computes the same S as sk·E. Disclosing S (with an
/// `EqualityProof`) opens this one ciphertext for everyone and nothing else.
enum ShareEncryption {
    static let tag = Array("darknode/mpc/share-encryption/v1".utf8)
    /// Bytes of one encrypted share vector: 64 per sharing (value ‖ blinding) plus the 16-byte tag.
    static func ciphertextBytes(sharings: Int) -> Int { 64 * sharings + 16 }

    static func key(shared: Point, session: SessionID, dealer: PartyIndex, receiver: PartyIndex, ephemeral: Point)
        -> SymmetricKey
    {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Wire.fixedPoint(shared)), salt: session.bytes,
            info: tag + Wire.lengthPrefix(dealer) + Wire.lengthPrefix(receiver) + Wire.fixedPoint(ephemeral),
            outputByteCount: 32)
    }

    static func associatedData(session: SessionID, dealer: PartyIndex, receiver: PartyIndex) -> [UInt8] {
        session.bytes + Wire.lengthPrefix(dealer) + Wire.lengthPrefix(receiver)
    }

    static func seal(_ shares: [VerifiableShare], key: SymmetricKey, associatedData: [UInt8]) -> [UInt8] {
        var plaintext: [UInt8] = []
        plaintext.reserveCapacity(64 * shares.count)
        for share in shares { plaintext += share.value.bytes + share.blinding.bytes }
        do {
            let box = try ChaChaPoly.seal(
                plaintext, using: key, nonce: try ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12)),
                authenticating: associatedData)
            return Array(box.ciphertext) + Array(box.tag)
        } catch {
            // ChaChaPoly.seal fails only for a malformed nonce or key, both fixed-size here.
            preconditionFailure("ChaCha20-Poly1305 refused a 32-byte key and a 12-byte nonce")
        }
    }

    /// The shares, or nil if the ciphertext does not authenticate or holds a scalar ≥ n.
    static func open(_ ciphertext: [UInt8], sharings: Int, key: SymmetricKey, associatedData: [UInt8])
        -> [VerifiableShare]?
    {
        guard ciphertext.count == ciphertextBytes(sharings: sharings) else { return nil }
        guard let nonce = try? ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12)),
            let box = try? ChaChaPoly.SealedBox(
                nonce: nonce, ciphertext: ciphertext.prefix(64 * sharings), tag: ciphertext.suffix(16)),
            let plaintext = try? ChaChaPoly.open(box, using: key, authenticating: associatedData)
        else { return nil }
        let bytes = Array(plaintext)
        var shares: [VerifiableShare] = []
        shares.reserveCapacity(sharings)
        for i in 0..<sharings {
            guard let value = try? Scalar(bytes: bytes[(64 * i)..<(64 * i + 32)]),
                let blinding = try? Scalar(bytes: bytes[(64 * i + 32)..<(64 * i + 64)])
            else { return nil }
            shares.append(VerifiableShare(value: value, blinding: blinding))
        }
        return shares
    }
}

/// A member's long-term identity key on secp256k1 (in the node: its attested key). Dealers encrypt shares to
/// its public half; its secret half decrypts them and signs complaints' disclosures. Never printed.
public struct MemberIdentity: Sendable, CustomStringConvertible {
    let secret: Scalar
    public let publicKey: Point

    public init(secret: Scalar) throws(MPCError) {
        guard !secret.isZero else { throw .invalidParameters("identity key must be non-zero") }
        self.secret = secret
        publicKey = Point.generatorMultiple(secret)
    }

    /// A fresh identity from `rng` (system CSPRNG in a node, a seeded one in simulations).
    public static func random(using rng: inout some RandomNumberGenerator) -> MemberIdentity {
        let secret = Scalar.randomNonZero(using: &rng)
        return MemberIdentity(checkedSecret: secret)
    }

    private init(checkedSecret: Scalar) {
        secret = checkedSecret
        publicKey = Point.generatorMultiple(checkedSecret)
    }

    public var description: String { "MemberIdentity(\(Hex.encode(publicKey.compressed.prefix(6))), <redacted>)" }
}
