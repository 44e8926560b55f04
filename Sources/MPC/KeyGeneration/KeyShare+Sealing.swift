import Secp256k1

/// The byte form a node seals to its store: a key share must survive a restart, or the member is lost to the
/// committee until the next reshare. Only ever written to sealed storage (it holds x_i); decoding checks that the
/// secret matches its public share, so a damaged or foreign record is refused rather than used.
///
/// `version u8 = 1 ‖ epoch u64 ‖ threshold u32 ‖ index u32 ‖ n u32 ‖ X_1 … X_n (33 bytes each) ‖ X (33) ‖ x_i (32)`.
extension KeyShare {
    public var sealedEncoding: [UInt8] {
        var out: [UInt8] = [1]
        out += SealedBytes.u64(publicData.epoch)
        out += SealedBytes.u32(publicData.threshold)
        out += SealedBytes.u32(index)
        out += SealedBytes.u32(publicData.publicShares.count)
        for p in publicData.publicShares { out += p.compressed }
        out += publicData.publicKey.compressed
        out += secret.bytes
        return out
    }

    public init(sealedEncoding bytes: [UInt8]) throws(MPCError) {
        guard bytes.count >= 21, bytes[0] == 1 else { throw .decoding("key share record version") }
        func int(_ at: Int, _ width: Int) -> UInt64 { bytes[at..<at + width].reduce(0) { $0 << 8 | UInt64($1) } }
        let epoch = int(1, 8), threshold = Int(int(9, 4)), index = Int(int(13, 4)), n = Int(int(17, 4))
        guard n >= 1, n <= Limits.partiesMax, bytes.count == 21 + 33 * (n + 1) + 32, (1...n).contains(index), threshold < n else {
            throw .decoding("key share record shape")
        }
        func point(_ at: Int) throws(MPCError) -> Point {
            do { return try Point(publicKeyEncoding: bytes[at..<at + 33]) } catch { throw .decoding("key share record point") }
        }
        var shares: [Point] = []
        for i in 0..<n { shares.append(try point(21 + 33 * i)) }
        let publicKey = try point(21 + 33 * n)
        let secret: Scalar
        do { secret = try Scalar(bytes: bytes[(21 + 33 * (n + 1))...]) } catch { throw .decoding("key share record secret") }
        let publicData = KeyPublicData(epoch: epoch, threshold: threshold, publicShares: shares, publicKey: publicKey)
        guard Point.generatorMultiple(secret) == publicData.publicShare(of: index) else { throw .decoding("key share secret does not match its public share") }
        self.init(publicData: publicData, index: index, secret: secret)
    }
}

