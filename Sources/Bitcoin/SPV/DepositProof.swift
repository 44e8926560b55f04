/// Everything needed to show, without a node, that a transaction paying a gateway is buried under enough work:
/// the raw transaction, its merkle path in its block, and the headers from a trusted checkpoint's successor up to
/// the current tip (the deposit's block among them).
public struct DepositProof: Sendable {
    public let transaction: [UInt8]
    public let outputIndex: UInt32
    /// Position of the transaction in its block and the sibling hashes.
    public let transactionIndex: UInt32
    public let siblings: [[UInt8]]
    /// Number of transactions in the block: fixes the proof's depth (see `MerkleProof`).
    public let transactionCount: Int
    /// Headers following the checkpoint, oldest first.
    public let headers: [BlockHeader]
    /// Index into `headers` of the block containing the transaction.
    public let blockIndex: Int

    public init(transaction: [UInt8], outputIndex: UInt32, transactionIndex: UInt32, siblings: [[UInt8]], transactionCount: Int, headers: [BlockHeader], blockIndex: Int) {
        self.transaction = transaction
        self.outputIndex = outputIndex
        self.transactionIndex = transactionIndex
        self.siblings = siblings
        self.transactionCount = transactionCount
        self.headers = headers
        self.blockIndex = blockIndex
    }

    /// What a verified proof establishes.
    public struct Verified: Sendable, Equatable {
        public let txid: [UInt8]
        public let outputIndex: UInt32
        public let value: UInt64
        public let blockHash: [UInt8]
        public let blockHeight: Int
        /// The block itself counts as one confirmation.
        public let confirmations: Int
        /// Work of the deposit's block and every block on top of it.
        public let workOnTop: UInt256
        public let tipHeight: Int
    }

    /// Verifies the header chain from `checkpoint`, the merkle inclusion, the output's script and amount, and the
    /// required depth (both a block count and, if given, an amount of work, since a block count alone can be faked
    /// on a low-difficulty fork only if the difficulty rules are skipped — which the verifier does not do).
    public func verify(parameters: ChainParameters, checkpoint: ChainCheckpoint, expectedScript: Script, minimumValue: UInt64 = 0,
                       minimumConfirmations: Int, minimumWork: UInt256 = .zero) throws(BitcoinError) -> Verified {
        guard headers.indices.contains(blockIndex) else { throw .malformedMerkleProof("block index \(blockIndex) outside the headers") }
        let tx = try Transaction(parsing: transaction)
        // BIP54: a 64-byte transaction could equally be an inner merkle node; refuse it as a leaf.
        guard tx.baseSize != 64 else { throw .sixtyFourByteTransaction }
        let txid = tx.txid
        let proof = try MerkleProof(leaf: txid, index: transactionIndex, siblings: siblings)
        try proof.verify(root: headers[blockIndex].merkleRoot, transactionCount: transactionCount)

        var chain = HeaderChainVerifier(parameters: parameters, checkpoint: checkpoint)
        var workOnTop = UInt256.zero
        for (i, header) in headers.enumerated() {
            try chain.append(header)
            if i >= blockIndex { workOnTop = workOnTop &+ UInt256.work(target: UInt256.decodeCompact(header.bits).target) }
        }
        let confirmations = headers.count - blockIndex
        guard confirmations >= minimumConfirmations else {
            throw .insufficientConfirmations(required: "\(minimumConfirmations) blocks", found: "\(confirmations) blocks")
        }
        guard !(workOnTop < minimumWork) else {
            throw .insufficientConfirmations(required: "work \(minimumWork)", found: "work \(workOnTop)")
        }
        guard tx.outputs.indices.contains(Int(outputIndex)) else {
            throw .depositOutputMismatch("output \(outputIndex) of \(tx.outputs.count)")
        }
        let output = tx.outputs[Int(outputIndex)]
        guard output.scriptPubKey == expectedScript else { throw .depositOutputMismatch("output does not pay the gateway script") }
        guard output.value >= minimumValue else { throw .depositOutputMismatch("value \(output.value) below \(minimumValue)") }
        return Verified(txid: txid, outputIndex: outputIndex, value: output.value, blockHash: headers[blockIndex].hash,
                        blockHeight: checkpoint.height + 1 + blockIndex, confirmations: confirmations, workOnTop: workOnTop,
                        tipHeight: chain.tipHeight)
    }
}
