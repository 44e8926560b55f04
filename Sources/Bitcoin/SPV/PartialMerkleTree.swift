/// BIP37 partial merkle tree, the proof format of Core's `gettxoutproof` (a CMerkleBlock: header, transaction
/// count, hashes, flag bits). Extraction follows Core's CPartialMerkleTree::ExtractMatches, including every
/// consistency check: all hashes and all flag bytes consumed, no equal left/right children (CVE-2012-2459).
public struct PartialMerkleTree: Sendable {
    public let header: BlockHeader
    public let transactionCount: Int
    public let hashes: [[UInt8]]
    public let flags: [Bool]
    let flagByteCount: Int

    /// Parses a `gettxoutproof` blob, rejecting trailing bytes.
    public init(parsing bytes: [UInt8]) throws(BitcoinError) {
        var r = ByteReader(bytes)
        header = try BlockHeader(reading: &r)
        let total = try r.readUInt32()
        guard total >= 1, Int(total) <= Limits.blockTransactionsMax else {
            throw .malformedMerkleProof("transaction count \(total)")
        }
        transactionCount = Int(total)
        let hashCount = try r.readCount("proof hashes", limit: transactionCount)
        var hs = [[UInt8]]()
        hs.reserveCapacity(hashCount)
        for _ in 0..<hashCount { hs.append(try r.readBytes(32)) }
        hashes = hs
        let flagBytes = try r.readVarBytes("proof flags", limit: (transactionCount * 2 + 7) / 8 + 1)
        flagByteCount = flagBytes.count
        flags = flagBytes.flatMap { byte in (0..<8).map { byte >> $0 & 1 == 1 } }
        try r.expectEnd()
    }

    func width(_ height: Int) -> Int { (transactionCount + (1 << height) - 1) >> height }

    /// The matched txids with their positions, after checking that the tree's root equals the header's.
    public func extractMatches() throws(BitcoinError) -> [(index: Int, txid: [UInt8])] {
        guard hashes.count <= transactionCount, flags.count >= hashes.count else {
            throw .malformedMerkleProof("more hashes than transactions or flag bits")
        }
        let height = Merkle.depth(leafCount: transactionCount)
        var bitsUsed = 0, hashesUsed = 0
        var matches = [(index: Int, txid: [UInt8])]()
        let root = try traverse(height: height, position: 0, bitsUsed: &bitsUsed, hashesUsed: &hashesUsed, matches: &matches)
        guard (bitsUsed + 7) / 8 == flagByteCount else { throw .malformedMerkleProof("unused flag bytes") }
        guard hashesUsed == hashes.count else { throw .malformedMerkleProof("unused hashes") }
        guard root == header.merkleRoot else { throw .merkleRootMismatch }
        return matches
    }

    func traverse(height: Int, position: Int, bitsUsed: inout Int, hashesUsed: inout Int, matches: inout [(index: Int, txid: [UInt8])]) throws(BitcoinError) -> [UInt8] {
        guard bitsUsed < flags.count else { throw .malformedMerkleProof("ran out of flag bits") }
        let parentOfMatch = flags[bitsUsed]
        bitsUsed += 1
        if height == 0 || !parentOfMatch {
            guard hashesUsed < hashes.count else { throw .malformedMerkleProof("ran out of hashes") }
            let h = hashes[hashesUsed]
            hashesUsed += 1
            if height == 0 && parentOfMatch { matches.append((position, h)) }
            return h
        }
        let left = try traverse(height: height - 1, position: position * 2, bitsUsed: &bitsUsed, hashesUsed: &hashesUsed, matches: &matches)
        var right = left
        if position * 2 + 1 < width(height - 1) {
            right = try traverse(height: height - 1, position: position * 2 + 1, bitsUsed: &bitsUsed, hashesUsed: &hashesUsed, matches: &matches)
            guard right != left else { throw .malformedMerkleProof("equal left and right children (CVE-2012-2459)") }
        }
        return Merkle.parent(left, right)
    }
}
