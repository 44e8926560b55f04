import Bitcoin
import Consensus
import Crypto
import Enclave
import Foundation
import Secp256k1
import Shard
import Testing

@testable import Node

@Suite struct MempoolTests {
    func headerTransactions(_ n: Int) -> [ShardTransaction] {
        var miner = RegtestMiner()
        return (0..<n).map { _ in .bitcoinHeaders([miner.mine().header]) }
    }

    @Test func boundedInCountAndBytesAndDeduplicated() throws {
        var limits = Mempool.Limits()
        limits.transactionsMax = 3
        var pool = Mempool(limits: limits)
        let txs = headerTransactions(5)
        for t in txs.prefix(3) { try pool.add(t) }
        #expect(throws: MempoolError.duplicate) { try pool.add(txs[0]) }
        #expect(throws: MempoolError.full(transactions: 3, bytes: pool.bytes)) { try pool.add(txs[3]) }
        #expect(pool.candidates() == Array(txs.prefix(3)))
        pool.remove([txs[1].id])
        try pool.add(txs[3])
        #expect(pool.candidates() == [txs[0], txs[2], txs[3]])
        var small = Mempool.Limits()
        small.transactionBytesMax = 10
        var tiny = Mempool(limits: small)
        #expect(throws: MempoolError.tooLarge(bytes: txs[0].encoded.count, limit: 10)) { try tiny.add(txs[0]) }
        #expect(tiny.count == 0)
    }
}

@Suite struct NodeStoreTests {
    func freshStore() throws -> (NodeStore, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nodestore-\(UUID().uuidString).sqlite").path
        return (NodeStore(store: try SealedStore.create(path: path, sealingKey: SymmetricKey(data: [UInt8](repeating: 1, count: 32)))), path)
    }

    @Test func walSurvivesReopenAndEndsWithItsHeight() throws {
        let (store, path) = try freshStore()
        let signer = Secp256k1Signer(privateKey: try PrivateKey(bytes: [UInt8](repeating: 3, count: 32)))
        let value = Value([1, 2, 3])
        let at5 = SignedMessage.sign(.vote(Vote(step: .prevote, height: 5, round: 0, valueID: value.id)), with: signer)
        let at6 = SignedMessage.sign(.vote(Vote(step: .prevote, height: 6, round: 0, valueID: value.id)), with: signer)
        try store.appendWAL([.signed(at5), .locked(height: 5, RoundValue(value: value, round: 0))])
        try store.appendWAL([.signed(at6)])
        try store.store.close()
        let reopened = NodeStore(store: try SealedStore.open(path: path, sealingKey: SymmetricKey(data: [UInt8](repeating: 1, count: 32))))
        #expect(try reopened.walEntries(height: 5) == [.signed(at5), .locked(height: 5, RoundValue(value: value, round: 0))])
        #expect(try reopened.walEntries(height: 6) == [.signed(at6)])
        // New entries after a reopen never overwrite old ones (sequence numbers continue).
        try reopened.appendWAL([.valid(height: 6, RoundValue(value: value, round: 1))])
        #expect(try reopened.walEntries(height: 6).count == 2)
    }
}
