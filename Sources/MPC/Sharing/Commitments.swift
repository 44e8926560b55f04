import Secp256k1

/// Polynomials "in the exponent": commitments C_j to coefficients, evaluated at a party index.
public enum ExponentPolynomial {
    /// Σ_j C_j·i^j by Horner's rule. Public data, variable-time.
    ///
    /// For the small party indices of a committee, multiplying by i is done as a sum of i copies in one
    /// libsecp256k1 `pubkey_combine` call (i Jacobian additions and one field inversion), which is several
    /// times cheaper than a 256-bit constant-time scalar multiplication.
    public static func evaluate(_ coefficients: [Point], at index: PartyIndex) -> Point {
        precondition(index >= 0)
        guard var accumulator = coefficients.last else { return .identity }
        if index == 0 { return coefficients[0] }
        var j = coefficients.count - 2
        let small = index <= smallIndexMax
        let x = Scalar(UInt64(index))
        while j >= 0 {
            if small {
                var terms = [Point](repeating: accumulator, count: index)
                terms.append(coefficients[j])
                accumulator = Point.sum(terms)
            } else {
                accumulator = accumulator.timesPublic(x) + coefficients[j]
            }
            j -= 1
        }
        return accumulator
    }

    /// Above this index a scalar multiplication is cheaper than repeated addition.
    static let smallIndexMax = 48

    /// Coefficient-wise sum of several commitment vectors of the same length (the commitment to the sum of
    /// the committed polynomials).
    public static func sum(_ vectors: [[Point]]) -> [Point] {
        guard let length = vectors.first?.count else { return [] }
        precondition(vectors.allSatisfy { $0.count == length })
        return (0..<length).map { j in Point.sum(vectors.map { $0[j] }) }
    }
}

/// Feldman (1987) commitments C_j = a_j·G to a sharing polynomial's coefficients: anyone can check a share,
/// and C_0 = secret·G is revealed (which is wanted for keys: it is the public key or a public key share).
public struct FeldmanCommitment: Sendable, Equatable {
    public let coefficients: [Point]

    public init(coefficients: [Point]) { self.coefficients = coefficients }

    /// Commits to a polynomial: one generator multiplication per coefficient (constant-time).
    public init(polynomial: Polynomial) {
        coefficients = polynomial.coefficients.map { Point.generatorMultiple($0) }
    }

    public var degree: Int { coefficients.count - 1 }
    /// secret·G.
    public var constantTerm: Point { coefficients[0] }

    /// f(i)·G as the commitments say it must be.
    public func evaluate(at index: PartyIndex) -> Point { ExponentPolynomial.evaluate(coefficients, at: index) }

    /// Whether `share` = f(index) for the committed f.
    public func verify(share: Scalar, index: PartyIndex) -> Bool {
        Point.generatorMultiple(share) == evaluate(at: index)
    }
}

/// Pedersen (1991) commitments C_j = a_j·G + b_j·H for a sharing polynomial a and a random blinding
/// polynomial b: shares are checkable, and the commitments reveal nothing about a (information-theoretic
/// hiding), which is what GJKR's first phase and every presignature sharing need.
public struct PedersenCommitment: Sendable, Equatable {
    public let coefficients: [Point]

    public init(coefficients: [Point]) { self.coefficients = coefficients }

    /// Commits to a value polynomial and a blinding polynomial of the same degree.
    public init(polynomial: Polynomial, blinding: Polynomial) {
        precondition(polynomial.coefficients.count == blinding.coefficients.count)
        coefficients = zip(polynomial.coefficients, blinding.coefficients).map {
            VerifiableShare(value: $0, blinding: $1).commitment
        }
    }

    public var degree: Int { coefficients.count - 1 }

    /// The commitment to share i: f(i)·G + g(i)·H.
    public func evaluate(at index: PartyIndex) -> Point { ExponentPolynomial.evaluate(coefficients, at: index) }

    /// Whether (value, blinding) is share `index` of the committed pair of polynomials.
    public func verify(share: VerifiableShare, index: PartyIndex) -> Bool {
        share.commitment == evaluate(at: index)
    }
}

/// A dealer's Pedersen sharing: polynomials, commitments, and every party's share.
public struct PedersenSharing: Sendable {
    public let polynomial: Polynomial
    public let blinding: Polynomial
    public let commitment: PedersenCommitment

    /// Deals `secret` with degree `degree`. With `zeroBlindingConstant` the blinding polynomial's constant is
    /// zero too, so C_0 = secret·G (used for zero sharings, whose C_0 must then be the identity, and checked).
    public init(
        secret: Scalar, degree: Int, zeroBlindingConstant: Bool = false,
        using rng: inout some RandomNumberGenerator
    ) {
        polynomial = Polynomial.random(degree: degree, constantTerm: secret, using: &rng)
        let blindingConstant = zeroBlindingConstant ? Scalar.zero : Scalar.random(using: &rng)
        blinding = Polynomial.random(degree: degree, constantTerm: blindingConstant, using: &rng)
        commitment = PedersenCommitment(polynomial: polynomial, blinding: blinding)
    }

    /// Share for party i.
    public func share(for index: PartyIndex) -> VerifiableShare {
        VerifiableShare(value: polynomial.evaluate(at: index), blinding: blinding.evaluate(at: index))
    }
}
