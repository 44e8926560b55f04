/// A full block: header and transactions. Used to recompute merkle roots and witness commitments.
public struct Block: Sendable {
    public let header: BlockHeader
    public let transactions: [Transaction]

    public init(parsing bytes: [UInt8]) throws(BitcoinError) {
        guard bytes.count <= Limits.transactionBytesMax else {
            throw .oversize(field: "block", count: bytes.count, limit: Limits.transactionBytesMax)
        }
        var r = ByteReader(bytes)
        header = try BlockHeader(reading: &r)
        let n = try r.readCount("transactions", limit: Limits.blockTransactionsMax)
        var txs = [Transaction]()
        txs.reserveCapacity(n)
        for _ in 0..<n { txs.append(try Transaction(reading: &r)) }
        try r.expectEnd()
        transactions = txs
    }

    /// The merkle root over the txids (must equal the header's).
    public var computedMerkleRoot: [UInt8] { Merkle.root(transactions.map(\.txid)) }

    /// The witness merkle root: wtxids with the coinbase's replaced by zeros (BIP141).
    public var witnessMerkleRoot: [UInt8] {
        Merkle.root([[UInt8](repeating: 0, count: 32)] + transactions.dropFirst().map(\.wtxid))
    }
}

/// Bitcoin's merkle tree: pairs hashed with dSHA256, an odd last node paired with itself.
public enum Merkle {
    public static func parent(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] { BitcoinHashes.sha256d(left + right) }

    /// Root of `leaves` (internal byte order). Does not detect CVE-2012-2459 duplication; callers that accept
    /// blocks from peers must check for duplicate txids.
    public static func root(_ leaves: [[UInt8]]) -> [UInt8] {
        precondition(!leaves.isEmpty, "a block has at least one transaction")
        var level = leaves
        while level.count > 1 {
            var next = [[UInt8]]()
            next.reserveCapacity((level.count + 1) / 2)
            for i in stride(from: 0, to: level.count, by: 2) {
                next.append(parent(level[i], i + 1 < level.count ? level[i + 1] : level[i]))
            }
            level = next
        }
        return level[0]
    }

    /// The sibling path for leaf `index`, bottom-up.
    public static func path(_ leaves: [[UInt8]], index: Int) -> [[UInt8]] {
        precondition(leaves.indices.contains(index))
        var level = leaves, i = index
        var siblings = [[UInt8]]()
        while level.count > 1 {
            let sibling = i ^ 1
            siblings.append(sibling < level.count ? level[sibling] : level[i])
            var next = [[UInt8]]()
            for j in stride(from: 0, to: level.count, by: 2) {
                next.append(parent(level[j], j + 1 < level.count ? level[j + 1] : level[j]))
            }
            level = next
            i /= 2
        }
        return siblings
    }

    /// Tree height for `count` leaves: ⌈log₂ count⌉.
    public static func depth(leafCount count: Int) -> Int {
        var d = 0
        while (1 << d) < count { d += 1 }
        return d
    }
}
