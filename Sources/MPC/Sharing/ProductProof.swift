import Crypto
import Secp256k1

/// Non-interactive proof that a Pedersen commitment C commits to the product of the value committed in A and
/// the value committed in B: the three-move protocol of Gennaro, Rabin and Rabin (PODC 1998, "Simplified VSS
/// and fast-track multiparty computations", appendix), made non-interactive with Fiat–Shamir, as RZL's
/// multiply-and-open uses it (docs/mpc.md).
///
/// Statement: A = a·G + α·H, B = b·G + β·H, C = ab·G + γ·H. Since C = a·B + (γ − aβ)·H, the prover shows it
/// knows an opening (a, α) of A and that C − a·B is a multiple of H, with the same a in both places. That is
/// the whole statement: GRR98's third part (a proof of knowledge of B's opening) is dropped, because B is
/// binding and already fixed by public data (a summed commitment, or the Feldman value X_i). Dropping it saves
/// two multiplications per proof and, for the key product (B = X_i), means the proof never uses x_i: a repeated
/// nonce could otherwise have leaked the long-term share. Extraction from two challenges e ≠ e′ gives
/// a = Δy/Δe from the first equation and C = a·B + (Δw₂/Δe)·H from the second.
///
/// Transcript hashing (lessons of TSSHOCK, docs/mpc.md): a fixed domain tag, the caller's context bytes
/// (session, instance, prover) length-prefixed, then every point in a fixed 33-byte encoding, in a fixed
/// order. No variable-length field is left ambiguous.
public struct ProductProof: Sendable, Equatable {
    public let m: Point, m2: Point
    public let y: Scalar, w: Scalar, w2: Scalar

    public init(m: Point, m2: Point, y: Scalar, w: Scalar, w2: Scalar) {
        (self.m, self.m2) = (m, m2)
        (self.y, self.w, self.w2) = (y, w, w2)
    }

    static let tag = Array("darknode/mpc/product-proof/v2".utf8)

    /// Proves that `c` commits to a·b, given the opening (a, α) of A, the blinding β of B and γ of C.
    /// Constant-time in the secrets (generator multiplication and `timesSecret`, Montgomery scalar arithmetic).
    public static func prove(
        a: VerifiableShare, bBlinding beta: Scalar, productBlinding gamma: Scalar,
        commitments: (a: Point, b: Point, c: Point), context: [UInt8],
        using rng: inout some RandomNumberGenerator
    ) -> ProductProof {
        let d = Scalar.random(using: &rng), s = Scalar.random(using: &rng)
        let s2 = Scalar.random(using: &rng)
        let m = VerifiableShare(value: d, blinding: s).commitment
        let m2 = commitments.b.timesSecret(d) + PedersenGenerator.h.timesSecret(s2)
        let e = challenge(context: context, commitments: commitments, m: m, m2: m2)
        return ProductProof(
            m: m, m2: m2, y: d + e * a.value, w: s + e * a.blinding, w2: s2 + e * (gamma - a.value * beta))
    }

    /// Checks the proof against public commitments. Variable-time (public data).
    public func verify(commitments: (a: Point, b: Point, c: Point), context: [UInt8]) -> Bool {
        let e = ProductProof.challenge(context: context, commitments: commitments, m: m, m2: m2)
        let h = PedersenGenerator.h
        guard VerifiableShare.publicCommitment(value: y, blinding: w) == m + commitments.a.timesPublic(e) else {
            return false
        }
        return commitments.b.timesPublic(y) + h.timesPublic(w2) == m2 + commitments.c.timesPublic(e)
    }

    static func challenge(context: [UInt8], commitments: (a: Point, b: Point, c: Point), m: Point, m2: Point)
        -> Scalar
    {
        var hasher = SHA256()
        hasher.update(data: tag)
        hasher.update(data: Wire.lengthPrefix(context.count))
        hasher.update(data: context)
        for point in [commitments.a, commitments.b, commitments.c, m, m2] {
            hasher.update(data: Wire.fixedPoint(point))
        }
        return Scalar(reducing: Array(hasher.finalize()))
    }
}

/// Fixed-width encodings shared by transcripts and the message codec.
enum Wire {
    /// 33 bytes: the compressed point, or 33 zero bytes for the identity (so every point has one length).
    static func fixedPoint(_ point: Point) -> [UInt8] {
        point.isIdentity ? [UInt8](repeating: 0, count: 33) : point.compressed
    }

    /// The wire encoding of a point: 65 uncompressed bytes, or the single byte 0x00 for the identity.
    static func uncompressedPointOrIdentity(_ point: Point) -> [UInt8] { point.uncompressed }

    static func lengthPrefix(_ count: Int) -> [UInt8] {
        let v = UInt32(count)
        return [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
}
