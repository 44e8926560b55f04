import CSecp256k1
import Secp256k1

/// Scalar, point and ECDSA figures, each beside libsecp256k1's own operation where one exists.
func benchSecp256k1(_ h: inout Harness) {
    print("== secp256k1 ==")
    var rng = SystemRandomNumberGenerator()
    let values = (0..<1024).map { _ in Scalar.randomNonZero(using: &rng) }
    var acc = Scalar.one
    h.measure("Scalar mul", iterations: 1_000_000) {
        for i in 0..<1_000_000 { acc = acc * values[i & 1023] }
        blackHole(acc)
    }
    h.measure("Scalar add", iterations: 1_000_000) {
        for i in 0..<1_000_000 { acc = acc + values[i & 1023] }
        blackHole(acc)
    }
    h.measure("Scalar inverse", iterations: 10_000) {
        for i in 0..<10_000 { acc = acc + (try! values[i & 1023].inverse()) }
        blackHole(acc)
    }
    h.measure("Scalar batch inverse (per element, batch 1024)", iterations: 1024 * 20) {
        for _ in 0..<20 { blackHole(try! Scalar.batchInverse(values)) }
    }
    // libsecp256k1 exports scalar multiplication only as a tweak of a secret key (mul mod n, with checks).
    let ctx = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE))!
    var keyBytes = values[0].bytes
    let tweaks = values.map { $0.bytes }
    h.measure("libsecp256k1 seckey_tweak_mul (scalar mul + checks)", iterations: 100_000) {
        for i in 0..<100_000 { _ = secp256k1_ec_seckey_tweak_mul(ctx, &keyBytes, tweaks[i & 1023]) }
        blackHole(keyBytes)
    }
    h.ratio("Scalar mul", "libsecp256k1 seckey_tweak_mul (scalar mul + checks)")

    let points = values.prefix(64).map { Point.generatorMultiple($0) }
    var p = Point.generator
    h.measure("Point k·G (generator multiply)", iterations: 2_000) {
        for i in 0..<2_000 { p = Point.generatorMultiple(values[i & 1023]) }
        blackHole(p)
    }
    var rawKey = secp256k1_pubkey()
    h.measure("libsecp256k1 ec_pubkey_create", iterations: 2_000) {
        for i in 0..<2_000 { _ = secp256k1_ec_pubkey_create(ctx, &rawKey, tweaks[i & 1023]) }
        blackHole(rawKey)
    }
    h.ratio("Point k·G (generator multiply)", "libsecp256k1 ec_pubkey_create")
    h.measure("Point k·P (variable base)", iterations: 2_000) {
        for i in 0..<2_000 { p = points[i & 63] * values[i & 1023] }
        blackHole(p)
    }
    var base = secp256k1_pubkey()
    _ = secp256k1_ec_pubkey_create(ctx, &base, tweaks[1])
    h.measure("libsecp256k1 ec_pubkey_tweak_mul", iterations: 2_000) {
        for i in 0..<2_000 {
            var k = base
            _ = secp256k1_ec_pubkey_tweak_mul(ctx, &k, tweaks[i & 1023])
            blackHole(k)
        }
    }
    h.ratio("Point k·P (variable base)", "libsecp256k1 ec_pubkey_tweak_mul")
    h.measure("Point add", iterations: 20_000) {
        for i in 0..<20_000 { p = p + points[i & 63] }
        blackHole(p)
    }

    let key = PrivateKey.generate()
    let digests = (0..<256).map { i in BitcoinHash.sha256([UInt8(i)]) }
    let keyBytesForSign = key.bytes
    h.measure("ECDSA sign (RFC 6979)", iterations: 2_000) {
        for i in 0..<2_000 { blackHole(try! key.signature(for: digests[i & 255])) }
    }
    var rawSig = secp256k1_ecdsa_signature()
    h.measure("libsecp256k1 ecdsa_sign", iterations: 2_000) {
        for i in 0..<2_000 { _ = secp256k1_ecdsa_sign(ctx, &rawSig, digests[i & 255], keyBytesForSign, nil, nil) }
        blackHole(rawSig)
    }
    h.ratio("ECDSA sign (RFC 6979)", "libsecp256k1 ecdsa_sign")
    let sigs = digests.map { try! key.signature(for: $0) }
    let pub = key.publicKey
    var ok = true
    h.measure("ECDSA verify", iterations: 2_000) {
        for i in 0..<2_000 { ok = ok && pub.isValidSignature(sigs[i & 255], for: digests[i & 255]) }
        blackHole(ok)
    }
    var rawSigs = sigs.map { sig -> secp256k1_ecdsa_signature in
        var s = secp256k1_ecdsa_signature()
        _ = secp256k1_ecdsa_signature_parse_compact(ctx, &s, sig.compact)
        return s
    }
    var rawPub = secp256k1_pubkey()
    _ = secp256k1_ec_pubkey_parse(ctx, &rawPub, pub.compressed, 33)
    h.measure("libsecp256k1 ecdsa_verify", iterations: 2_000) {
        for i in 0..<2_000 { ok = ok && secp256k1_ecdsa_verify(ctx, &rawSigs[i & 255], digests[i & 255], &rawPub) == 1 }
        blackHole(ok)
    }
    h.ratio("ECDSA verify", "libsecp256k1 ecdsa_verify")
    let message = [UInt8](repeating: 0xAB, count: 64)
    h.measure("Keccak-256 (64 bytes)", iterations: 100_000) {
        for _ in 0..<100_000 { blackHole(Keccak256.hash(message)) }
    }
    precondition(ok)
    secp256k1_context_destroy(ctx)
}
