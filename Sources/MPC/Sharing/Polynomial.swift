import Secp256k1

/// A party's position in a committee: 1 … n. Its Shamir evaluation point is the scalar with the same value,
/// so 0 (where the secret lives) is never a party.
public typealias PartyIndex = Int

extension Scalar {
    /// The evaluation point of a party: `Scalar(index)`. Public data.
    @inlinable
    public init(party index: PartyIndex) {
        precondition(index > 0, "party indices start at 1; 0 is the secret's evaluation point")
        self.init(UInt64(index))
    }
}

/// A polynomial over the secp256k1 scalar field, lowest-degree coefficient first.
///
/// Shamir sharing of degree d hides its constant term from any d shares and reveals it from d + 1
/// (Shamir 1979, "How to share a secret").
public struct Polynomial: Sendable {
    /// Coefficients a₀ … a_d, so that f(x) = Σ a_j·x^j.
    public var coefficients: [Scalar]

    public init(coefficients: [Scalar]) {
        precondition(!coefficients.isEmpty, "a polynomial has at least a constant term")
        self.coefficients = coefficients
    }

    /// The formal degree (the number of coefficients − 1; a top coefficient may be zero).
    public var degree: Int { coefficients.count - 1 }

    /// The constant term f(0): the shared secret.
    public var constantTerm: Scalar { coefficients[0] }

    /// A uniformly random polynomial of the given degree with a fixed constant term.
    public static func random(
        degree: Int, constantTerm: Scalar, using rng: inout some RandomNumberGenerator
    ) -> Polynomial {
        precondition(degree >= 0)
        var coefficients = [constantTerm]
        coefficients.reserveCapacity(degree + 1)
        for _ in 0..<degree { coefficients.append(Scalar.random(using: &rng)) }
        return Polynomial(coefficients: coefficients)
    }

    /// f(x) by Horner's rule. Constant-time in the coefficients and in x.
    @inlinable
    public func evaluate(at x: Scalar) -> Scalar {
        var accumulator = coefficients[coefficients.count - 1]
        var j = coefficients.count - 2
        while j >= 0 {
            accumulator = accumulator * x + coefficients[j]
            j -= 1
        }
        return accumulator
    }

    /// f(i) for a party index.
    @inlinable
    public func evaluate(at party: PartyIndex) -> Scalar { evaluate(at: Scalar(party: party)) }

    /// Every party's share f(1) … f(n).
    public func shares(count n: Int) -> [Scalar] {
        (1...n).map { evaluate(at: $0) }
    }
}
