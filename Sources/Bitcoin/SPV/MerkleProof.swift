/// An inclusion proof: a leaf, its position, and the sibling hashes from the bottom up.
///
/// Position alone does not make a proof sound. A 64-byte "transaction" is indistinguishable from a pair of
/// child hashes, so an attacker who gets a 64-byte transaction mined can prove an inner node as a leaf or vice
/// versa (BIP54; summa-tx/bitcoin-spv#192). `verify` therefore takes the depth the proof must have, derived from
/// the block's transaction count, and the deposit verifier additionally refuses 64-byte transactions.
public struct MerkleProof: Hashable, Sendable {
    public let leaf: [UInt8]
    public let index: UInt32
    public let siblings: [[UInt8]]

    public init(leaf: [UInt8], index: UInt32, siblings: [[UInt8]]) throws(BitcoinError) {
        guard leaf.count == 32, siblings.allSatisfy({ $0.count == 32 }) else { throw .malformedMerkleProof("hashes must be 32 bytes") }
        guard siblings.count <= Limits.merkleDepthMax else {
            throw .oversize(field: "merkle siblings", count: siblings.count, limit: Limits.merkleDepthMax)
        }
        guard siblings.count == 32 || UInt64(index) < (UInt64(1) << UInt64(siblings.count)) else {
            throw .malformedMerkleProof("index \(index) does not fit a tree of depth \(siblings.count)")
        }
        self.leaf = leaf
        self.index = index
        self.siblings = siblings
    }

    /// The root this proof leads to.
    public var root: [UInt8] {
        var h = leaf
        for (level, s) in siblings.enumerated() {
            h = (index >> UInt32(level)) & 1 == 0 ? Merkle.parent(h, s) : Merkle.parent(s, h)
        }
        return h
    }

    /// Checks the proof against `root` for a block of `transactionCount` transactions: the depth must be the
    /// tree height for that count, the index within it, and the path consistent with Bitcoin's odd-node rule
    /// (a right sibling that duplicates the node is only legal for the last node of a level).
    public func verify(root expected: [UInt8], transactionCount: Int) throws(BitcoinError) {
        guard transactionCount >= 1, transactionCount <= Limits.blockTransactionsMax else {
            throw .malformedMerkleProof("transaction count \(transactionCount)")
        }
        guard siblings.count == Merkle.depth(leafCount: transactionCount) else {
            throw .malformedMerkleProof("depth \(siblings.count), expected \(Merkle.depth(leafCount: transactionCount))")
        }
        guard Int(index) < transactionCount else { throw .malformedMerkleProof("index \(index) ≥ \(transactionCount)") }
        var h = leaf, position = Int(index), width = transactionCount
        for s in siblings {
            let isRight = position & 1 == 1
            let isLastAndOdd = !isRight && position == width - 1
            if isLastAndOdd {
                guard s == h else { throw .malformedMerkleProof("last odd node must pair with itself") }
            } else if !isRight && s == h {
                throw .malformedMerkleProof("duplicate sibling inside a level (CVE-2012-2459)")
            }
            h = isRight ? Merkle.parent(s, h) : Merkle.parent(h, s)
            position /= 2
            width = (width + 1) / 2
        }
        guard h == expected else { throw .merkleRootMismatch }
    }
}
