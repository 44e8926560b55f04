import CSecp256k1

/// Why a key or signature could not be used.
public enum ECDSAError: Error, Equatable, Sendable {
    /// A secret key must be in [1, n−1].
    case invalidPrivateKey
    /// A message digest must be exactly 32 bytes.
    case invalidDigestLength(Int)
    /// The DER encoding is not strict DER, or r/s are out of range.
    case invalidDER
    /// A compact signature must be 64 bytes (r‖s), each half below n.
    case invalidCompact
    /// A recoverable signature must be 65 bytes r‖s‖v with v ∈ {0, 1, 27, 28}.
    case invalidRecoverable
    /// Extra entropy for nonce generation must be 32 bytes.
    case invalidExtraEntropy
    /// No public key could be recovered from the signature and digest.
    case recoveryFailed
    /// The public key encoding was rejected.
    case invalidPublicKey(PointError)
}

/// A secp256k1 public key: a finite curve point.
public struct PublicKey: Sendable, Hashable {
    /// The key's curve point (never the identity).
    public let point: Point

    /// Wraps a finite point; the identity is not a public key.
    public init(point: Point) throws(ECDSAError) {
        guard !point.isIdentity else { throw .invalidPublicKey(.identityNotAllowed) }
        self.point = point
    }

    /// Parses a 33- or 65-byte SEC1 encoding.
    public init(encoded bytes: some Collection<UInt8>) throws(ECDSAError) {
        do {
            self.point = try Point(publicKeyEncoding: bytes)
        } catch {
            throw .invalidPublicKey(error)
        }
    }

    /// The 33-byte compressed encoding.
    public var compressed: [UInt8] { point.compressed }
    /// The 65-byte uncompressed encoding.
    public var uncompressed: [UInt8] { point.uncompressed }

    /// The 20-byte EVM address: the last 20 bytes of Keccak-256 over the 64-byte x‖y.
    public var evmAddress: [UInt8] {
        Array(Keccak256.hash(uncompressed.dropFirst()).suffix(20))
    }

    /// The EIP-55 mixed-case checksummed address, with a 0x prefix.
    public var evmAddressString: String { EVMAddress.checksummed(evmAddress) }

    /// Verifies a lower-S signature over a 32-byte digest. High-S signatures are rejected, as libsecp256k1
    /// does, to rule out malleated copies; normalise first if a high-S signature must be accepted.
    public func isValidSignature(_ signature: ECDSASignature, for digest: some Collection<UInt8>) -> Bool {
        let d = Array(digest)
        guard d.count == 32, var key = point.pubkey else { return false }
        var sig = signature.raw
        return secp256k1_ecdsa_verify(Secp256k1Context.shared, &sig, d, &key) == 1
    }
}

/// A secp256k1 secret key. Its value never appears in descriptions or errors.
public struct PrivateKey: Sendable {
    /// The secret scalar, in [1, n−1].
    public let scalar: Scalar

    /// Wraps a non-zero scalar.
    public init(scalar: Scalar) throws(ECDSAError) {
        guard !scalar.isZero else { throw .invalidPrivateKey }
        self.scalar = scalar
    }

    /// Decodes 32 big-endian bytes; zero and values ≥ n are rejected.
    public init(bytes: some Collection<UInt8>) throws(ECDSAError) {
        guard bytes.count == 32, let s = try? Scalar(bytes: bytes), !s.isZero else { throw .invalidPrivateKey }
        self.scalar = s
    }

    /// A fresh key from the system CSPRNG.
    public static func generate() -> PrivateKey {
        var rng = SystemRandomNumberGenerator()
        return generate(using: &rng)
    }

    /// A key from an injected generator (seeded simulations).
    public static func generate(using rng: inout some RandomNumberGenerator) -> PrivateKey {
        // randomNonZero never returns zero, so this cannot throw.
        try! PrivateKey(scalar: Scalar.randomNonZero(using: &rng))
    }

    /// The 32-byte big-endian secret. Handle with care.
    public var bytes: [UInt8] { scalar.bytes }

    /// The public key x·G.
    public var publicKey: PublicKey {
        try! PublicKey(point: Point.generatorMultiple(scalar))
    }

    /// Signs a 32-byte digest with an RFC 6979 deterministic nonce (HMAC-SHA256), optionally mixing in 32 bytes
    /// of extra entropy as RFC 6979 §3.6 allows. The result is always lower-S.
    public func signature(for digest: some Collection<UInt8>, extraEntropy: [UInt8]? = nil) throws(ECDSAError)
        -> ECDSASignature
    {
        let d = Array(digest)
        guard d.count == 32 else { throw .invalidDigestLength(d.count) }
        if let e = extraEntropy, e.count != 32 { throw .invalidExtraEntropy }
        var sig = secp256k1_ecdsa_signature()
        let key = bytes
        let ok: Int32
        if let e = extraEntropy {
            ok = secp256k1_ecdsa_sign(Secp256k1Context.shared, &sig, d, key, secp256k1_nonce_function_rfc6979, e)
        } else {
            ok = secp256k1_ecdsa_sign(Secp256k1Context.shared, &sig, d, key, secp256k1_nonce_function_rfc6979, nil)
        }
        precondition(ok == 1, "signing with a valid key and the RFC 6979 nonce function cannot fail")
        return ECDSASignature(raw: sig)
    }

    /// Signs a 32-byte digest and returns the signature with its recovery id (RFC 6979 nonce, lower-S).
    public func recoverableSignature(for digest: some Collection<UInt8>, extraEntropy: [UInt8]? = nil)
        throws(ECDSAError) -> RecoverableSignature
    {
        let d = Array(digest)
        guard d.count == 32 else { throw .invalidDigestLength(d.count) }
        if let e = extraEntropy, e.count != 32 { throw .invalidExtraEntropy }
        var sig = secp256k1_ecdsa_recoverable_signature()
        let key = bytes
        let ok: Int32
        if let e = extraEntropy {
            ok = secp256k1_ecdsa_sign_recoverable(
                Secp256k1Context.shared, &sig, d, key, secp256k1_nonce_function_rfc6979, e)
        } else {
            ok = secp256k1_ecdsa_sign_recoverable(
                Secp256k1Context.shared, &sig, d, key, secp256k1_nonce_function_rfc6979, nil)
        }
        precondition(ok == 1)
        var compact = [UInt8](repeating: 0, count: 64)
        var recid: Int32 = 0
        secp256k1_ecdsa_recoverable_signature_serialize_compact(Secp256k1Context.shared, &compact, &recid, &sig)
        return try RecoverableSignature(compact: compact, recoveryID: UInt8(recid))
    }

    /// The ECDH shared secret with a peer's key, hashed as libsecp256k1 does (SHA-256 of the compressed point).
    public func sharedSecret(with peer: PublicKey) -> [UInt8] {
        var key = peer.point.pubkey!
        var out = [UInt8](repeating: 0, count: 32)
        let ok = secp256k1_ecdh(Secp256k1Context.shared, &out, &key, bytes, nil, nil)
        precondition(ok == 1)
        return out
    }
}

extension PrivateKey: CustomStringConvertible {
    public var description: String { "PrivateKey(<redacted>)" }
}

/// The RFC 6979 nonce candidates libsecp256k1 would use, exposed so tests can check them against published
/// vectors: `attempt` 0 is the nonce, later attempts are the §3.2 step h retries.
public func rfc6979Nonce(privateKey: PrivateKey, digest: [UInt8], attempt: UInt32) -> [UInt8] {
    precondition(digest.count == 32)
    var out = [UInt8](repeating: 0, count: 32)
    let ok = secp256k1_nonce_function_rfc6979(&out, digest, privateKey.bytes, nil, nil, attempt)
    precondition(ok == 1)
    return out
}

/// An ECDSA signature (r, s).
public struct ECDSASignature: Sendable, Hashable {
    var raw: secp256k1_ecdsa_signature

    init(raw: secp256k1_ecdsa_signature) { self.raw = raw }

    /// Parses 64 bytes r‖s (big-endian, each below n). High-S is accepted here; verification will reject it.
    public init(compact bytes: some Collection<UInt8>) throws(ECDSAError) {
        let b = Array(bytes)
        guard b.count == 64 else { throw .invalidCompact }
        var sig = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_compact(Secp256k1Context.shared, &sig, b) == 1 else {
            throw .invalidCompact
        }
        self.raw = sig
    }

    /// Parses strict DER (as BIP66 requires).
    public init(der bytes: some Collection<UInt8>) throws(ECDSAError) {
        let b = Array(bytes)
        guard !b.isEmpty, b.count <= 72 else { throw .invalidDER }
        var sig = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_der(Secp256k1Context.shared, &sig, b, b.count) == 1 else {
            throw .invalidDER
        }
        self.raw = sig
    }

    /// 64 bytes r‖s.
    public var compact: [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        var sig = raw
        secp256k1_ecdsa_signature_serialize_compact(Secp256k1Context.shared, &out, &sig)
        return out
    }

    /// Strict DER encoding (at most 72 bytes).
    public var der: [UInt8] {
        var out = [UInt8](repeating: 0, count: 72)
        var length = 72
        var sig = raw
        let ok = secp256k1_ecdsa_signature_serialize_der(Secp256k1Context.shared, &out, &length, &sig)
        precondition(ok == 1)
        return Array(out[0..<length])
    }

    /// r as a scalar.
    public var r: Scalar { try! Scalar(bytes: compact[0..<32]) }
    /// s as a scalar.
    public var s: Scalar { try! Scalar(bytes: compact[32..<64]) }

    /// Builds a signature from scalars (e.g. combined by MPC).
    public init(r: Scalar, s: Scalar) {
        try! self.init(compact: r.bytes + s.bytes)
    }

    /// Whether s is in the upper half of [1, n−1] (malleable form).
    public var isHighS: Bool {
        var out = secp256k1_ecdsa_signature()
        var sig = raw
        return secp256k1_ecdsa_signature_normalize(Secp256k1Context.shared, &out, &sig) == 1
    }

    /// The lower-S form: s replaced by n − s when s > n/2.
    public var normalized: ECDSASignature {
        var out = secp256k1_ecdsa_signature()
        var sig = raw
        _ = secp256k1_ecdsa_signature_normalize(Secp256k1Context.shared, &out, &sig)
        return ECDSASignature(raw: out)
    }

    public static func == (a: ECDSASignature, b: ECDSASignature) -> Bool { a.compact == b.compact }
    public func hash(into hasher: inout Hasher) { hasher.combine(compact) }
}

/// An ECDSA signature with its recovery id, so the public key can be recovered from (digest, signature).
/// The 65-byte form r‖s‖v is what EVM contracts take (v = 27 + recovery id).
public struct RecoverableSignature: Sendable, Hashable {
    /// 64 bytes r‖s.
    public let compact: [UInt8]
    /// 0 or 1 (2 and 3, for r ≥ p − n, never occur with honest signing and are rejected).
    public let recoveryID: UInt8

    /// Builds from r‖s and a recovery id in {0, 1}.
    public init(compact: [UInt8], recoveryID: UInt8) throws(ECDSAError) {
        guard compact.count == 64, recoveryID <= 1 else { throw .invalidRecoverable }
        _ = try ECDSASignature(compact: compact)
        self.compact = compact
        self.recoveryID = recoveryID
    }

    /// Parses 65 bytes r‖s‖v with v ∈ {27, 28} (EVM) or {0, 1}.
    public init(evm bytes: some Collection<UInt8>) throws(ECDSAError) {
        let b = Array(bytes)
        guard b.count == 65 else { throw .invalidRecoverable }
        let v = b[64]
        let id: UInt8
        switch v {
        case 0, 1: id = v
        case 27, 28: id = v - 27
        default: throw .invalidRecoverable
        }
        try self.init(compact: Array(b[0..<64]), recoveryID: id)
    }

    /// 65 bytes r‖s‖v with v = 27 + recovery id, as `ecrecover` expects.
    public var evm: [UInt8] { compact + [27 + recoveryID] }

    /// The plain signature.
    public var signature: ECDSASignature { try! ECDSASignature(compact: compact) }

    /// Recovers the signer's public key from a 32-byte digest.
    public func recoverPublicKey(digest: some Collection<UInt8>) throws(ECDSAError) -> PublicKey {
        let d = Array(digest)
        guard d.count == 32 else { throw .invalidDigestLength(d.count) }
        var sig = secp256k1_ecdsa_recoverable_signature()
        guard
            secp256k1_ecdsa_recoverable_signature_parse_compact(
                Secp256k1Context.shared, &sig, compact, Int32(recoveryID)) == 1
        else { throw .invalidRecoverable }
        var key = secp256k1_pubkey()
        guard secp256k1_ecdsa_recover(Secp256k1Context.shared, &key, &sig, d) == 1 else { throw .recoveryFailed }
        return try PublicKey(point: Point(storage: .finite(key)))
    }

    /// Finds the recovery id of a plain signature made by `publicKey` over `digest`.
    public static func find(signature: ECDSASignature, digest: [UInt8], publicKey: PublicKey) throws(ECDSAError)
        -> RecoverableSignature
    {
        for id: UInt8 in 0...1 {
            let candidate = try RecoverableSignature(compact: signature.compact, recoveryID: id)
            if let key = try? candidate.recoverPublicKey(digest: digest), key == publicKey { return candidate }
        }
        throw .recoveryFailed
    }
}

/// EVM address formatting.
public enum EVMAddress {
    /// EIP-55: hex digits upper-cased where the matching nibble of Keccak-256(lower-case hex) is ≥ 8.
    public static func checksummed(_ address: [UInt8]) -> String {
        let lower = address.map { byteHex($0) }.joined()
        let hash = Keccak256.hash(Array(lower.utf8))
        var out = "0x"
        for (i, ch) in lower.enumerated() {
            let nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0xF
            out.append(nibble >= 8 ? Character(ch.uppercased()) : ch)
        }
        return out
    }
}
