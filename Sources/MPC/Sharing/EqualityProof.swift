import Crypto
import Secp256k1

/// Chaum–Pedersen proof (CRYPTO'92) that two points share a discrete logarithm: P = k·G and S = k·B for the
/// same secret k, made non-interactive with Fiat–Shamir. A complainer uses it to show that the key S it
/// discloses really is ECDH(its identity key, the dealer's ephemeral key B), without revealing k.
///
/// Transcript: a domain tag, the caller's context (session, dealer, complainer) length-prefixed, then P, B, S
/// and the two commitments, each in the fixed 33-byte encoding.
public struct EqualityProof: Sendable, Equatable {
    public let challenge: Scalar
    public let response: Scalar

    public init(challenge: Scalar, response: Scalar) {
        self.challenge = challenge
        self.response = response
    }

    static let tag = Array("darknode/mpc/dleq-proof/v1".utf8)

    /// Proves log_G(k·G) = log_B(k·B). The nonce and k meet only constant-time multiplications.
    static func prove(
        secret k: Scalar, base: Point, context: [UInt8], using rng: inout some RandomNumberGenerator
    ) -> EqualityProof {
        let publicKey = Point.generatorMultiple(k)
        let shared = base.timesSecret(k)
        let r = Scalar.randomNonZero(using: &rng)
        let a1 = Point.generatorMultiple(r)
        let a2 = base.timesSecret(r)
        let c = challenge(context: context, publicKey: publicKey, base: base, shared: shared, a1: a1, a2: a2)
        return EqualityProof(challenge: c, response: r + c * k)
    }

    /// Checks the proof for public points. Variable-time (public data).
    func verify(publicKey: Point, base: Point, shared: Point, context: [UInt8]) -> Bool {
        guard !publicKey.isIdentity, !base.isIdentity, !shared.isIdentity else { return false }
        let a1 = Point.generatorMultiple(response) - publicKey.timesPublic(challenge)
        let a2 = base.timesPublic(response) - shared.timesPublic(challenge)
        return EqualityProof.challenge(
            context: context, publicKey: publicKey, base: base, shared: shared, a1: a1, a2: a2) == challenge
    }

    static func challenge(context: [UInt8], publicKey: Point, base: Point, shared: Point, a1: Point, a2: Point)
        -> Scalar
    {
        var hasher = SHA256()
        hasher.update(data: tag)
        hasher.update(data: Wire.lengthPrefix(context.count))
        hasher.update(data: context)
        for point in [publicKey, base, shared, a1, a2] { hasher.update(data: Wire.fixedPoint(point)) }
        return Scalar(reducing: Array(hasher.finalize()))
    }
}
