import Crypto
import Secp256k1

/// The second Pedersen generator H, whose discrete logarithm to G nobody knows.
///
/// Derivation (nothing up my sleeve, by try-and-increment hashing to the curve): for counter = 0, 1, 2, …
/// take x = SHA-256(tag ‖ counter as 4 big-endian bytes) and use the first x that is the x-coordinate of a
/// curve point, choosing the even-y point (SEC1 prefix 02). About half of all x qualify, so the loop ends
/// after a couple of tries. Because x is a hash output, finding log_G(H) would mean solving a discrete
/// logarithm for an effectively random point. Anyone can re-derive H from the tag (tested against an
/// independent Python derivation).
public enum PedersenGenerator {
    /// Domain-separation tag of the derivation.
    public static let tag = Array("darknode/mpc/pedersen-generator-h/v1".utf8)

    /// The counter that produced H, and H itself.
    public static let derivation: (counter: UInt32, point: Point) = derive(tag: tag)

    /// H.
    public static var h: Point { derivation.point }

    /// Try-and-increment: the first hash of (tag, counter) that is a valid x-coordinate.
    static func derive(tag: [UInt8]) -> (counter: UInt32, point: Point) {
        var counter: UInt32 = 0
        while true {
            let counterBytes: [UInt8] = [
                UInt8(counter >> 24), UInt8((counter >> 16) & 0xFF), UInt8((counter >> 8) & 0xFF),
                UInt8(counter & 0xFF),
            ]
            let x = Array(SHA256.hash(data: tag + counterBytes))
            if let point = try? Point(publicKeyEncoding: [0x02] + x), point != Point.generator {
                return (counter, point)
            }
            counter += 1
        }
    }
}

/// A share with its Pedersen blinding share: the pair (f(i), g(i)) of a Pedersen sharing. For a Feldman
/// sharing the blinding is zero.
public struct VerifiableShare: Sendable, Equatable {
    public var value: Scalar
    public var blinding: Scalar

    public init(value: Scalar, blinding: Scalar = .zero) {
        self.value = value
        self.blinding = blinding
    }

    /// value·G + blinding·H. Constant-time in both (the blinding goes through `timesSecret`).
    public var commitment: Point {
        Point.generatorMultiple(value) + PedersenGenerator.h.timesSecret(blinding)
    }

    /// value·G + blinding·H for public scalars (proof responses): the variable-time multiplication.
    public static func publicCommitment(value: Scalar, blinding: Scalar) -> Point {
        Point.generatorMultiple(value) + PedersenGenerator.h.timesPublic(blinding)
    }

    public static func + (a: VerifiableShare, b: VerifiableShare) -> VerifiableShare {
        VerifiableShare(value: a.value + b.value, blinding: a.blinding + b.blinding)
    }

    public static func * (k: Scalar, a: VerifiableShare) -> VerifiableShare {
        VerifiableShare(value: k * a.value, blinding: k * a.blinding)
    }
}
