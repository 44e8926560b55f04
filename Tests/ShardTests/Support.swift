import Bitcoin
import Consensus
import Crypto
import Secp256k1
import Testing

@testable import Shard

/// Deterministic key i (for tests only).
func testKey(_ i: Int) -> PrivateKey {
    try! PrivateKey(bytes: Array(SHA256.hash(data: Array("darknode/shard-tests/key/\(i)".utf8))))
}

/// A shard on regtest with a locally mined Bitcoin chain. The shard key is an ordinary key here: the state machine
/// only checks signatures against it, it never learns how they were made.
struct ShardFixture {
    let committee: [PrivateKey]
    let shardKey: PrivateKey
    let recovery: RecoveryPolicy
    let genesis: ShardGenesis
    var state: ShardState
    var miner = RegtestMiner()
    var minedBlocks: [RegtestMiner.MinedBlock] = []
    var presignatureCounter = 0
    static let selector = "BTC/toEthereum"

    init(members: Int = 4, confirmations: Int = 3) throws {
        committee = (0..<members).map { testKey($0) }
        shardKey = testKey(1_000)
        recovery = try RecoveryPolicy(threshold: 2, keys: [testKey(2_000).publicKey, testKey(2_001).publicKey, testKey(2_002).publicKey])
        genesis = try ShardGenesis(chainID: "shard-tests", committee: committee.map(\.publicKey), threshold: (members - 1) / 3,
                                   bitcoinNetwork: .regtest, checkpoint: RegtestMiner.genesisCheckpoint,
                                   confirmationsRequired: confirmations, recovery: recovery, selectors: [Self.selector])
        state = ShardState(genesis: genesis)
    }

    /// Builds the next block from `txs`, requiring every one to be accepted, and applies it.
    @discardableResult
    mutating func commit(_ txs: [ShardTransaction], sourceLocation: SourceLocation = #_sourceLocation) throws -> [ShardEvent] {
        let built = BlockBuilder.build(on: state, candidates: txs)
        #expect(built.refused.isEmpty, "refused: \(built.refused.map { "\($0.transaction.kind): \($0.reason)" })", sourceLocation: sourceLocation)
        return try state.apply(built.block)
    }

    /// Commits one transaction and returns the error the block builder refused it with (nil if accepted).
    mutating func refusal(of tx: ShardTransaction) throws -> ShardError? {
        let built = BlockBuilder.build(on: state, candidates: [tx])
        try state.apply(built.block)
        return built.refused.first?.reason
    }

    mutating func registerKey() throws {
        try commit([.shardKey(ShardKeyRegistration(epoch: genesis.epoch, key: shardKey.publicKey))])
    }

    /// Mines `count` blocks and relays their headers.
    mutating func mineAndRelay(_ count: Int, transactions: [Transaction] = []) throws {
        var headers: [BlockHeader] = []
        for i in 0..<count {
            let block = miner.mine(i == 0 ? transactions : [])
            minedBlocks.append(block)
            headers.append(block.header)
        }
        try commit([.bitcoinHeaders(headers)])
    }

    struct Deposit {
        let transaction: Transaction
        let outputIndex: UInt32
        let pHash: [UInt8]
        let nonce: [UInt8]
        let to: [UInt8]
        var sHash: [UInt8] { RenVMHashes.sHash(selector: ShardFixture.selector) }
        var gHash: [UInt8] { try! RenVMHashes.gHash(pHash: pHash, sHash: sHash, to: to, nonce: nonce) }
    }

    /// A transaction paying `amount` to the gateway of (pHash, sHash, to, nonce), funded from a made-up outpoint
    /// (the shard checks inclusion and the output, not the inputs: Bitcoin's consensus already did).
    func deposit(_ i: Int, amount: UInt64 = 100_000, payTo script: Script? = nil) -> Deposit {
        let nonce = Array(SHA256.hash(data: Array("nonce \(i)".utf8)))
        let pHash = RenVMHashes.pHash(payload: Array("payload \(i)".utf8))
        let to = Array(testKey(3_000 + i).publicKey.evmAddress)
        let gHash = try! RenVMHashes.gHash(pHash: pHash, sHash: RenVMHashes.sHash(selector: Self.selector), to: to, nonce: nonce)
        let gateway = try! GatewayScript(gHash: gHash, shardKey: shardKey.publicKey, recovery: recovery)
        let funding = OutPoint(txid: Array(SHA256.hash(data: Array("funding \(i)".utf8))), index: 0)
        let tx = Transaction(inputs: [TxInput(previousOutput: funding, witness: [[0x01]])],
                             outputs: [TxOutput(value: 1_000, scriptPubKey: Script([.op(.op1)])),
                                       TxOutput(value: amount, scriptPubKey: script ?? gateway.scriptPubKey)])
        return Deposit(transaction: tx, outputIndex: 1, pHash: pHash, nonce: nonce, to: to)
    }

    /// The mint request for a deposit mined in `block`.
    func mintRequest(_ d: Deposit, in block: RegtestMiner.MinedBlock) throws -> MintRequest {
        let proof = try #require(block.inclusionProof(txid: d.transaction.txid))
        return try MintRequest(depositTransaction: d.transaction.serialized(), outputIndex: d.outputIndex, transactionIndex: proof.index,
                               transactionCount: UInt32(proof.transactionCount), siblings: proof.siblings, blockHash: block.header.hash,
                               pHash: d.pHash, sHash: d.sHash, to: d.to, nonce: d.nonce)
    }

    /// Fresh, distinct presignature ids (stand-ins for the MPC module's).
    mutating func presignatureIDs(_ n: Int) -> [[UInt8]] {
        defer { presignatureCounter += n }
        return (presignatureCounter..<presignatureCounter + n).map { Array(SHA256.hash(data: Array("presignature \($0)".utf8))) }
    }

    /// Signs every assigned, unsigned request with the shard key (what the MPC committee would produce).
    func signAssigned() throws -> [SignatureResult] {
        try state.requestsToSign.map { SignatureResult(requestID: $0.id, signature: try shardKey.signature(for: $0.digest)) }
    }
}
