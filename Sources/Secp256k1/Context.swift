import CSecp256k1

/// The process-wide libsecp256k1 context.
///
/// Created once and randomised (blinding for side-channel resistance of signing and key generation), then
/// used only through functions that take a `const` context, which libsecp256k1 documents as safe to call
/// from many threads at once.
enum Secp256k1Context {
    nonisolated(unsafe) static let shared: OpaquePointer = {
        guard let ctx = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
            fatalError("libsecp256k1: context creation failed")
        }
        var seed = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<32 { seed[i] = UInt8.random(in: .min ... .max, using: &rng) }
        let ok = secp256k1_context_randomize(ctx, seed)
        precondition(ok == 1, "libsecp256k1: context randomisation failed")
        return ctx
    }()
}
