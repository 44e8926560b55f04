import Bitcoin
import Consensus
import Crypto
import Enclave
import Foundation
import Secp256k1
import Shard
import Testing
import TestSupport

@testable import Node

@Suite(.serialized) struct ShardOverMeshTests {
    /// Four nodes decide the same blocks: a transaction submitted to one node is committed everywhere, and every node
    /// reaches the same state root at every height it records.
    @Test func fourNodesAgreeOnBlocksAndState() async throws {
        let shard = try TestShard(nodes: 4)
        try await shard.startAll()
        #expect(await waitFor("all nodes past height 3", seconds: 600) { await shard.heights().allSatisfy { $0 > 3 } })
        var miner = RegtestMiner()
        let headers = (0..<5).map { _ in miner.mine().header }
        let id = try await shard.running[1].submit(.bitcoinHeaders(headers))
        #expect(id.count == 32)
        #expect(await waitFor("headers relayed everywhere", seconds: 600) {
            for r in shard.running where await r.state.bitcoinTip.height != 5 { return false }
            return true
        })
        // Same state at the same height: compare the stored certificate and state root of a common height.
        let common = await shard.heights().min()! - 1  // heights are the ones being decided; the one below is decided everywhere
        var roots: Set<[UInt8]> = []
        for r in shard.running {
            let certificate = try #require(try r.store.certificate(height: common))
            roots.insert(certificate.value.bytes)
        }
        #expect(roots.count == 1, "every node decided the same block at height \(common)")
        // A duplicate submission is refused, and so is a transaction the rules refuse (nothing enters the mempool).
        await #expect(throws: MempoolError.invalid(.forkWithLessWork)) { try await shard.running[2].submit(.bitcoinHeaders(headers)) }
        await shard.stopAll()
    }

    /// A node that stops (as a crash would leave it) and comes back restores its sealed state and WAL, catches up
    /// on the blocks it missed by sync, and ends with the same state as the others.
    @Test func restartedNodeCatchesUpBySync() async throws {
        let shard = try TestShard(nodes: 4)
        try await shard.startAll()
        #expect(await waitFor("all nodes past height 2", seconds: 600) { await shard.heights().allSatisfy { $0 > 2 } })
        await shard.stop(3)
        let stoppedAt = try #require(try? SealedStoreProbe.height(of: shard.storePath(3), key: shard.sealingKey, genesis: shard.genesis))
        // The others keep deciding without it (3 of 4 is a quorum), well past the in-memory certificate history.
        let target = stoppedAt + UInt64(Consensus.Limits.certificateHistoryMax) + 10
        #expect(await waitFor("three nodes past height \(target)", seconds: 900) {
            await shard.heights().enumerated().filter { $0.offset != 3 }.allSatisfy { $0.element > target }
        })
        try await shard.start(3)
        #expect(await waitFor("restarted node caught up", seconds: 900) {
            let h = await shard.heights()
            return h[3] >= h[0] - 1 && h[3] > target
        })
        let restarted = try #require(shard.runtimes[3])
        let probeHeight = await restarted.height - 1
        let theirs = try #require(try shard.runtimes[0]?.store.certificate(height: probeHeight))
        let ours = try #require(try restarted.store.certificate(height: probeHeight))
        #expect(ours.value == theirs.value)
        await shard.stopAll()
    }
}

/// Reads a stopped node's sealed state height without starting it.
enum SealedStoreProbe {
    static func height(of path: String, key: SymmetricKey, genesis: ShardGenesis) throws -> UInt64 {
        let store = try Enclave.SealedStore.open(path: path, sealingKey: key)
        defer { try? store.close() }
        return try NodeStore(store: store).loadState(genesis: genesis).height
    }
}
