import Secp256k1

/// Builds and mines regtest blocks locally with this module's own code: a BIP34 coinbase (with a BIP141 witness
/// commitment when any transaction has a witness), the merkle root, and a nonce search against regtest's
/// minimum difficulty (about two tries per block). Regtest only (its bits and genesis are fixed here): a development
/// network and tests can have a real, verifiable chain without a Bitcoin node.
public struct RegtestMiner: Sendable {
    public struct MinedBlock: Sendable {
        public let header: BlockHeader
        public let height: Int
        /// Coinbase first.
        public let transactions: [Transaction]

        /// Raw block bytes: header, transaction count, transactions with witnesses.
        public var serialized: [UInt8] {
            var w = ByteWriter()
            w.write(header.serialized)
            w.writeCompactSize(UInt64(transactions.count))
            for tx in transactions { w.write(tx.serialized()) }
            return w.bytes
        }

        /// Position, sibling path and transaction count proving `txid` is in this block.
        public func inclusionProof(txid: [UInt8]) -> (index: UInt32, siblings: [[UInt8]], transactionCount: Int)? {
            let ids = transactions.map(\.txid)
            guard let i = ids.firstIndex(of: txid) else { return nil }
            return (UInt32(i), Merkle.path(ids, index: i), ids.count)
        }
    }

    /// Regtest's genesis header (Bitcoin Core chainparams).
    public static let genesisHeader = BlockHeader(
        version: 1, previousBlockHash: [UInt8](repeating: 0, count: 32),
        merkleRoot: Array(Hex.decode("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b")!.reversed()),
        time: 1_296_688_602, bits: 0x207F_FFFF, nonce: 2)

    public private(set) var tip: BlockHeader
    public private(set) var height: Int
    /// Script the coinbase pays (anyone-can-spend `OP_TRUE` by default).
    public let payoutScript: Script

    public init(payoutScript: Script = Script([.op(.op1)])) {
        tip = Self.genesisHeader
        height = 0
        self.payoutScript = payoutScript
    }

    public static var genesisCheckpoint: ChainCheckpoint { .genesis(genesisHeader, parameters: .regtest) }

    /// Mines the next block holding `transactions` after a coinbase; its time is the parent's plus `spacing` seconds.
    public mutating func mine(_ transactions: [Transaction] = [], spacing: UInt32 = 600) -> MinedBlock {
        let nextHeight = height + 1
        var coinbase = Transaction(
            version: 2,
            inputs: [TxInput(previousOutput: OutPoint(txid: [UInt8](repeating: 0, count: 32), index: 0xFFFF_FFFF),
                             scriptSig: Script([.number(Int64(nextHeight)), .number(0)]), sequence: TxInput.finalSequence)],
            outputs: [TxOutput(value: 50 * 100_000_000 >> UInt64(nextHeight / 150), scriptPubKey: payoutScript)],
            lockTime: 0)
        if transactions.contains(where: \.hasWitness) {
            let reserved = [UInt8](repeating: 0, count: 32)
            coinbase.inputs[0].witness = [reserved]
            let witnessRoot = Merkle.root([reserved] + transactions.map(\.wtxid))
            let commitment = BitcoinHashes.sha256d(witnessRoot + reserved)
            coinbase.outputs.append(TxOutput(value: 0, scriptPubKey: Script([.op(.return), .data([0xAA, 0x21, 0xA9, 0xED] + commitment)])))
        }
        let all = [coinbase] + transactions
        var header = BlockHeader(version: 0x2000_0000, previousBlockHash: tip.hash, merkleRoot: Merkle.root(all.map(\.txid)),
                                 time: tip.time + spacing, bits: 0x207F_FFFF, nonce: 0)
        while !ChainParameters.regtest.checkProofOfWork(hash: header.hash, bits: header.bits) { header.nonce += 1 }
        tip = header
        height = nextHeight
        return MinedBlock(header: header, height: nextHeight, transactions: all)
    }
}
