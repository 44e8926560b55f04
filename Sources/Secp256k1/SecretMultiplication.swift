import CSecp256k1

/// Names the two variable-base multiplications so that a call site shows which one it uses.
///
/// libsecp256k1's `ec_pubkey_tweak_mul` (behind `Point * Scalar`) runs `secp256k1_ecmult`, a variable-time
/// wNAF multiplication: fine for public scalars, but its timing depends on the scalar. `secp256k1_ecdh` runs
/// `secp256k1_ecmult_const`, the constant-time ladder, and hands the resulting point to a hash callback; with a
/// callback that copies out x‖y instead of hashing, it is a constant-time k·P.
extension Point {
    /// k·P for a secret k (nonces, blindings, ECDH secrets): constant time in k. 0·P and k·identity give the
    /// identity (the zero check is the only branch on k, and a zero secret scalar has negligible probability).
    public func timesSecret(_ k: Scalar) -> Point {
        guard case .finite(var key) = storage, !k.isZero else { return .identity }
        var output = [UInt8](repeating: 0, count: 64)
        let ok = secp256k1_ecdh(Secp256k1Context.shared, &output, &key, k.bytes, copyPoint, nil)
        precondition(ok == 1, "a finite point times a non-zero scalar below n is a finite point")
        do {
            return try Point(encoded: [0x04] + output)
        } catch {
            preconditionFailure("libsecp256k1 returned a point that is not on the curve")
        }
    }

    /// k·P for a public k (commitment evaluation, Lagrange coefficients, proof verification): variable time.
    public func timesPublic(_ k: Scalar) -> Point { self * k }
}

/// The `secp256k1_ecdh` hash callback that returns the shared point itself, x‖y (64 bytes).
private let copyPoint: secp256k1_ecdh_hash_function = { output, x32, y32, _ in
    guard let output, let x32, let y32 else { return 0 }
    output.update(from: x32, count: 32)
    (output + 32).update(from: y32, count: 32)
    return 1
}
