import Secp256k1

/// Robust opening of a degree-d sharing whose individual shares cannot be checked (the blinding shares of a
/// Pedersen sharing, which RZL's RKPG opens): Reed–Solomon decoding by Berlekamp–Welch.
///
/// With m received values, up to ⌊(m − d − 1)/2⌋ wrong ones are corrected and their senders named. For
/// degree t and n ≥ 3t + 1 that is every set of t liars as long as they are the only ones missing or wrong.
/// RenVM's shamir package uses Gao's decoder for the same job (docs/mpc.md); Berlekamp–Welch is the
/// textbook alternative with the same decoding radius and is simpler to check. Public data, variable-time.
public enum ReedSolomon {
    public struct Decoding: Sendable, Equatable {
        /// The decoded polynomial's coefficients, lowest first.
        public let coefficients: [Scalar]
        /// Indices whose value disagrees with the decoded polynomial.
        public let wrongIndices: [PartyIndex]
        /// f(0).
        public var constantTerm: Scalar { coefficients[0] }
    }

    /// Decodes the polynomial of degree ≤ `degree` through all but at most ⌊(m − degree − 1)/2⌋ of the values.
    /// Returns nil when no such polynomial exists (too many errors).
    public static func decode(indices: [PartyIndex], values: [Scalar], degree: Int) -> Decoding? {
        let m = indices.count
        precondition(m == values.count && degree >= 0)
        guard m >= degree + 1 else { return nil }
        let xs = indices.map { Scalar(party: $0) }
        let errorsMax = (m - degree - 1) / 2
        // Fast path: all values consistent.
        if Lagrange.areConsistent(indices: indices, values: values, degree: degree) {
            let basis = Array(0...degree)
            guard let coefficients = interpolateCoefficients(xs: basis.map { xs[$0] }, ys: basis.map { values[$0] })
            else { return nil }
            return Decoding(coefficients: coefficients, wrongIndices: [])
        }
        guard errorsMax > 0 else { return nil }
        let e = errorsMax
        let qCount = degree + e + 1
        let unknowns = qCount + e
        // Rows: Σ_j Q_j x^j − y Σ_{j<e} E_j x^j = y x^e.
        var matrix: [[Scalar]] = []
        matrix.reserveCapacity(m)
        for (x, y) in zip(xs, values) {
            var row = [Scalar](repeating: .zero, count: unknowns + 1)
            var power = Scalar.one
            for j in 0..<max(qCount, e + 1) {
                if j < qCount { row[j] = power }
                if j < e { row[qCount + j] = -(y * power) }
                if j == e { row[unknowns] = y * power }
                power *= x
            }
            matrix.append(row)
        }
        guard let solution = solve(&matrix, unknowns: unknowns) else { return nil }
        let q = Array(solution[0..<qCount])
        let errorLocator = Array(solution[qCount..<unknowns]) + [Scalar.one]
        guard let (quotient, remainderIsZero) = divide(q, by: errorLocator), remainderIsZero else { return nil }
        var f = Array(quotient.prefix(degree + 1))
        while f.count < degree + 1 { f.append(.zero) }
        let polynomial = Polynomial(coefficients: f)
        let wrong = zip(indices, values).filter { polynomial.evaluate(at: $0.0) != $0.1 }.map(\.0)
        guard wrong.count <= errorsMax else { return nil }
        return Decoding(coefficients: f, wrongIndices: wrong)
    }

    /// Coefficients of the unique polynomial of degree < xs.count through the points (Lagrange basis). Nil if
    /// two xs coincide.
    static func interpolateCoefficients(xs: [Scalar], ys: [Scalar]) -> [Scalar]? {
        var result = [Scalar](repeating: .zero, count: xs.count)
        for i in xs.indices {
            // Basis polynomial L_i = Π_{j≠i} (x − x_j)/(x_i − x_j), accumulated as coefficients.
            var basis: [Scalar] = [.one]
            var denominator = Scalar.one
            for j in xs.indices where j != i {
                var next = [Scalar](repeating: .zero, count: basis.count + 1)
                for (k, c) in basis.enumerated() {
                    next[k + 1] += c
                    next[k] -= c * xs[j]
                }
                basis = next
                denominator *= xs[i] - xs[j]
            }
            guard let inverse = try? denominator.inverse() else { return nil }
            let scale = ys[i] * inverse
            for k in basis.indices { result[k] += basis[k] * scale }
        }
        return result
    }

    /// Gaussian elimination; free variables are set to zero. Nil if inconsistent.
    static func solve(_ matrix: inout [[Scalar]], unknowns: Int) -> [Scalar]? {
        var pivotColumns: [Int] = []
        var row = 0
        for column in 0..<unknowns where row < matrix.count {
            guard let pivot = (row..<matrix.count).first(where: { !matrix[$0][column].isZeroVar }) else { continue }
            matrix.swapAt(row, pivot)
            guard let inverse = try? matrix[row][column].inverse() else { return nil }
            for k in column...unknowns { matrix[row][k] *= inverse }
            for other in 0..<matrix.count where other != row && !matrix[other][column].isZeroVar {
                let factor = matrix[other][column]
                for k in column...unknowns { matrix[other][k] -= factor * matrix[row][k] }
            }
            pivotColumns.append(column)
            row += 1
        }
        // Inconsistent if a zero row has a non-zero right-hand side.
        for r in row..<matrix.count where !matrix[r][unknowns].isZeroVar { return nil }
        var solution = [Scalar](repeating: .zero, count: unknowns)
        for (r, column) in pivotColumns.enumerated() { solution[column] = matrix[r][unknowns] }
        return solution
    }

    /// Polynomial long division by a monic divisor. Returns (quotient, remainder == 0).
    static func divide(_ dividend: [Scalar], by divisor: [Scalar]) -> ([Scalar], Bool)? {
        guard let lead = divisor.last, lead == .one else { return nil }
        var remainder = dividend
        let dq = dividend.count - divisor.count
        guard dq >= 0 else { return ([.zero], remainder.allSatisfy(\.isZeroVar)) }
        var quotient = [Scalar](repeating: .zero, count: dq + 1)
        for k in stride(from: dq, through: 0, by: -1) {
            let coefficient = remainder[k + divisor.count - 1]
            quotient[k] = coefficient
            for (j, d) in divisor.enumerated() { remainder[k + j] -= coefficient * d }
        }
        return (quotient, remainder.allSatisfy(\.isZeroVar))
    }
}
