import Bitcoin
import Consensus
import Crypto
import Secp256k1
import Testing
import TestSupport

@testable import Shard

@Suite(.dedicatedThread) struct MintTests {
    /// Deposit → headers → mint → presignature → signature: the authorisation recovers to the shard's EVM address
    /// over RenVM's mint digest, and the coin is in custody.
    @Test func depositIsMintedAndSigned() throws {
        var f = try ShardFixture()
        try f.registerKey()
        let d = f.deposit(1)
        try f.mineAndRelay(3, transactions: [d.transaction])
        let mint = try f.mintRequest(d, in: f.minedBlocks[0])
        let events = try f.commit([.mint(mint)])
        let nHash = try RenVMHashes.nHash(nonce: d.nonce, txid: d.transaction.txid, outputIndex: 1)
        #expect(events == [.mintAccepted(nHash: nHash, amount: 100_000)])
        #expect(f.state.isMinted(nHash: nHash))
        #expect(f.state.requestsAwaitingPresignature == 1)

        let ids = f.presignatureIDs(2)
        let assigned = try f.commit([.presignatures(PresignatureBatch(epoch: 0, ids: ids))])
        #expect(assigned.contains(.signingAssigned(requestID: nHash, presignature: ids[0])))
        #expect(f.state.presignaturesAvailable == 1)

        let signatures = try f.signAssigned()
        #expect(signatures.count == 1)
        try f.commit([.signatures(signatures)])
        let request = try #require(f.state.request(id: nHash))
        let authorisation = try #require(request.mintAuthorisation(shardKey: f.shardKey.publicKey))
        let digest = try RenVMHashes.mintDigest(pHash: d.pHash, amount: 100_000, sHash: d.sHash, to: d.to, nHash: nHash)
        #expect(request.digest == digest)
        let recovered = try RecoverableSignature(evm: authorisation).recoverPublicKey(digest: digest)
        #expect(recovered.evmAddress == f.shardKey.publicKey.evmAddress)
        #expect(f.state.pendingRequests == 0)
        #expect(f.state.coin(OutPoint(txid: d.transaction.txid, index: 1))?.value == 100_000)
    }

    @Test func tooFewConfirmationsIsRefused() throws {
        var f = try ShardFixture(confirmations: 6)
        try f.registerKey()
        let d = f.deposit(1)
        try f.mineAndRelay(5, transactions: [d.transaction])
        let mint = try f.mintRequest(d, in: f.minedBlocks[0])
        #expect(try f.refusal(of: .mint(mint)) == .insufficientConfirmations(required: 6, found: 5))
        try f.mineAndRelay(1)
        #expect(try f.refusal(of: .mint(mint)) == nil)
    }

    @Test func depositPayingAnotherScriptIsRefused() throws {
        var f = try ShardFixture()
        try f.registerKey()
        // Pays the gateway of another recipient: the mint names this request's gHash, whose script differs.
        let other = f.deposit(2)
        let gateway = try GatewayScript(gHash: other.gHash, shardKey: f.shardKey.publicKey, recovery: f.recovery)
        let d = f.deposit(1, payTo: gateway.scriptPubKey)
        try f.mineAndRelay(3, transactions: [d.transaction])
        #expect(try f.refusal(of: .mint(try f.mintRequest(d, in: f.minedBlocks[0]))) == .depositPaysAnotherScript)
        // Pays a gateway of another shard key.
        let foreign = try GatewayScript(gHash: d.gHash, shardKey: testKey(77).publicKey, recovery: f.recovery)
        let e = f.deposit(3, payTo: foreign.scriptPubKey)
        try f.mineAndRelay(3, transactions: [e.transaction])
        #expect(try f.refusal(of: .mint(try f.mintRequest(e, in: f.minedBlocks[3]))) == .depositPaysAnotherScript)
    }

    @Test func reusedNHashIsRefused() throws {
        var f = try ShardFixture()
        try f.registerKey()
        let d = f.deposit(1)
        try f.mineAndRelay(3, transactions: [d.transaction])
        let mint = try f.mintRequest(d, in: f.minedBlocks[0])
        try f.commit([.mint(mint)])
        let nHash = try mint.nHash()
        #expect(try f.refusal(of: .mint(mint)) == .alreadyMinted(nHash: Hex.encode(nHash)))
        // Twice in one block: the second is refused by the builder, and a block carrying both is invalid.
        var g = try ShardFixture()
        try g.registerKey()
        try g.mineAndRelay(3, transactions: [d.transaction])
        let twice = ShardBlock(height: g.state.height + 1, previousHash: g.state.lastBlockHash, epoch: 0, stateRoot: g.state.root,
                               transactions: [.mint(mint), .mint(mint)])
        let before = g.state.root
        #expect(throws: ShardError.alreadyMinted(nHash: Hex.encode(nHash))) { try g.state.apply(twice) }
        #expect(g.state.root == before)
        #expect(!g.state.isMinted(nHash: nHash))
    }

    @Test func forgedDepositsAreRefused() throws {
        var f = try ShardFixture()
        try f.registerKey()
        let d = f.deposit(1)
        try f.mineAndRelay(3, transactions: [d.transaction])
        let good = try f.mintRequest(d, in: f.minedBlocks[0])
        // A deposit that was never mined: its proof cannot reach the block's merkle root.
        let never = f.deposit(9)
        let forged = try MintRequest(depositTransaction: never.transaction.serialized(), outputIndex: 1, transactionIndex: good.transactionIndex,
                                     transactionCount: good.transactionCount, siblings: good.siblings, blockHash: good.blockHash,
                                     pHash: never.pHash, sHash: never.sHash, to: never.to, nonce: never.nonce)
        #expect(try f.refusal(of: .mint(forged)) == .depositRejected(.merkleRootMismatch))
        // The same deposit claimed in a block the relay never saw.
        let unknownBlock = try MintRequest(depositTransaction: good.depositTransaction, outputIndex: 1, transactionIndex: good.transactionIndex,
                                           transactionCount: good.transactionCount, siblings: good.siblings, blockHash: [UInt8](repeating: 7, count: 32),
                                           pHash: good.pHash, sHash: good.sHash, to: good.to, nonce: good.nonce)
        #expect(try f.refusal(of: .mint(unknownBlock)) == .depositBlockUnknown)
        // A different recipient than the gateway was made for.
        let redirected = try MintRequest(depositTransaction: good.depositTransaction, outputIndex: 1, transactionIndex: good.transactionIndex,
                                         transactionCount: good.transactionCount, siblings: good.siblings, blockHash: good.blockHash,
                                         pHash: good.pHash, sHash: good.sHash, to: [UInt8](repeating: 0xEE, count: 20), nonce: good.nonce)
        #expect(try f.refusal(of: .mint(redirected)) == .depositPaysAnotherScript)
        // A selector the shard does not serve.
        let otherSelector = try MintRequest(depositTransaction: good.depositTransaction, outputIndex: 1, transactionIndex: good.transactionIndex,
                                            transactionCount: good.transactionCount, siblings: good.siblings, blockHash: good.blockHash,
                                            pHash: good.pHash, sHash: RenVMHashes.sHash(selector: "BTC/toSolana"), to: good.to, nonce: good.nonce)
        #expect(try f.refusal(of: .mint(otherSelector)) == .selectorNotServed)
        // The output index of the change, not the gateway.
        let wrongOutput = try MintRequest(depositTransaction: good.depositTransaction, outputIndex: 0, transactionIndex: good.transactionIndex,
                                          transactionCount: good.transactionCount, siblings: good.siblings, blockHash: good.blockHash,
                                          pHash: good.pHash, sHash: good.sHash, to: good.to, nonce: good.nonce)
        #expect(try f.refusal(of: .mint(wrongOutput)) == .depositPaysAnotherScript)
        #expect(try f.refusal(of: .mint(good)) == nil)
    }

    @Test func noMintBeforeTheShardHasAKey() throws {
        var f = try ShardFixture()
        let d = f.deposit(1)
        try f.mineAndRelay(3, transactions: [d.transaction])
        #expect(try f.refusal(of: .mint(try f.mintRequest(d, in: f.minedBlocks[0]))) == .noShardKey)
        try f.registerKey()
        #expect(try f.refusal(of: .shardKey(ShardKeyRegistration(epoch: 0, key: testKey(5).publicKey))) == .shardKeyAlreadySet(epoch: 0))
    }
}
