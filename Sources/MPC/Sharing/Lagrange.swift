import Secp256k1

/// Lagrange interpolation over the scalar field, for public sets of party indices.
///
/// The indices are public, so the computation of the coefficients may branch on them; the values being
/// interpolated (secret shares) only ever meet constant-time multiplications and additions.
public enum Lagrange {
    /// λ_i(x) = Π_{j≠i} (x − j)/(i − j) for every i in `indices`, so that f(x) = Σ λ_i·f(i) for any f of
    /// degree < indices.count. Precondition: indices distinct and non-zero.
    public static func coefficients(for indices: [PartyIndex], at x: Scalar = .zero) -> [Scalar] {
        let points = indices.map { Scalar(party: $0) }
        var numerators = [Scalar](repeating: .one, count: points.count)
        var denominators = [Scalar](repeating: .one, count: points.count)
        for i in points.indices {
            for j in points.indices where j != i {
                numerators[i] *= x - points[j]
                denominators[i] *= points[i] - points[j]
            }
        }
        let inverses: [Scalar]
        do {
            inverses = try Scalar.batchInverse(denominators)
        } catch {
            preconditionFailure("Lagrange coefficients need distinct party indices")
        }
        return zip(numerators, inverses).map { $0 * $1 }
    }

    /// f(0) from the values f(i) at distinct indices (exactly as many as the degree + 1, or more when the
    /// caller knows they are consistent).
    public static func interpolate(indices: [PartyIndex], values: [Scalar]) -> Scalar {
        precondition(indices.count == values.count)
        let lambdas = coefficients(for: indices)
        var sum = Scalar.zero
        for (lambda, value) in zip(lambdas, values) { sum += lambda * value }
        return sum
    }

    /// Σ λ_i·P_i: interpolation "in the exponent" (public points).
    public static func interpolate(indices: [PartyIndex], points: [Point]) -> Point {
        precondition(indices.count == points.count)
        let lambdas = coefficients(for: indices)
        return Point.sum(zip(lambdas, points).map { $1.timesPublic($0) })
    }

    /// Whether the values lie on one polynomial of degree ≤ `degree` (needs more than degree + 1 values to say
    /// anything). Interpolates from the first degree + 1 and compares the rest. Public data only.
    public static func areConsistent(indices: [PartyIndex], values: [Scalar], degree: Int) -> Bool {
        precondition(indices.count == values.count)
        guard indices.count > degree + 1 else { return true }
        let basis = Array(indices.prefix(degree + 1))
        let basisValues = Array(values.prefix(degree + 1))
        for k in (degree + 1)..<indices.count {
            let lambdas = coefficients(for: basis, at: Scalar(party: indices[k]))
            var predicted = Scalar.zero
            for (lambda, value) in zip(lambdas, basisValues) { predicted += lambda * value }
            if predicted != values[k] { return false }
        }
        return true
    }
}

/// Lagrange coefficients at 0, cached per signer set: a committee signs many digests with the same few
/// signer sets, and each set's coefficients cost O(|set|²) multiplications and one inversion.
public struct LagrangeCache: Sendable {
    private var entries: [[PartyIndex]: [Scalar]] = [:]
    /// How many signer sets are kept before the cache is cleared (a bound, not a tuning knob).
    public let setsMax: Int

    public init(setsMax: Int = Limits.lagrangeCacheSetsMax) {
        self.setsMax = setsMax
    }

    /// λ_i at 0 for the sorted set `indices`, computing and remembering them on first use.
    public mutating func coefficients(for indices: [PartyIndex]) -> [Scalar] {
        if let cached = entries[indices] { return cached }
        if entries.count >= setsMax { entries.removeAll(keepingCapacity: true) }
        let lambdas = Lagrange.coefficients(for: indices)
        entries[indices] = lambdas
        return lambdas
    }

    /// Number of cached sets (for tests).
    public var count: Int { entries.count }
}
