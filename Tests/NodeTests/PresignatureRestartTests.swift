import Bitcoin
import Crypto
import Foundation
import Secp256k1
import Shard
import Testing
import TestSupport

@testable import Node

/// Presignatures are sealed: two of four members stop together (consensus halts) and restart from their stores. A
/// mint then gets the oldest registered presignature, made before the restart; signing needs 2t + 1 = 3 shares, so
/// without their sealed halves the two restarted members could not contribute and the request would never be signed.
@Suite(.serialized) struct PresignatureRestartTests {
    static var configuration: NodeConfiguration {
        var c = TestShard.fastConfiguration
        c.mpc.presignBatch = 4
        c.mpc.presignaturePoolTarget = 4
        c.mpc.presignInterval = 2
        return c
    }

    @Test func presignaturesSurviveARestartOfTwoMembers() async throws {
        let shard = try TestShard(nodes: 4, configuration: Self.configuration)
        try await shard.startAll()
        #expect(await waitFor("a full presignature pool on every member", seconds: 900) {
            for r in shard.running where await r.state.presignaturesAvailable < 4 { return false }
            return true
        })
        let shardKey = try #require(await shard.running[0].state.shardKey)
        // The sealed records are there before the restart: one per registered, unused presignature.
        for i in [2, 3] {
            let rows = try await shard.runtimes[i]!.store.loadPresignatures()
            #expect(rows.count >= 4, "member \(i) sealed its presignatures")
        }

        await shard.stop(2)
        await shard.stop(3)
        try await shard.start(2)
        try await shard.start(3)
        for i in [2, 3] {
            let held = await shard.runtimes[i]!.heldPresignatures
            #expect(held >= 4, "member \(i) restored its sealed presignatures, holds \(held)")
        }

        let recovery = shard.genesis.recovery
        let nonce = Array(SHA256.hash(data: Array("restart nonce".utf8)))
        let pHash = RenVMHashes.pHash(payload: [])
        let sHash = RenVMHashes.sHash(selector: "BTC/toEthereum")
        let to = [UInt8](repeating: 0x24, count: 20)
        let gHash = try RenVMHashes.gHash(pHash: pHash, sHash: sHash, to: to, nonce: nonce)
        let gateway = try GatewayScript(gHash: gHash, shardKey: shardKey, recovery: recovery)
        let deposit = Transaction(inputs: [TxInput(previousOutput: OutPoint(txid: [UInt8](repeating: 6, count: 32), index: 0), witness: [[1]])],
                                  outputs: [TxOutput(value: 50_000, scriptPubKey: gateway.scriptPubKey)])
        var miner = RegtestMiner()
        let block = miner.mine([deposit])
        _ = try await shard.running[0].submit(.bitcoinHeaders([block.header, miner.mine().header]))
        #expect(await waitFor("headers relayed on every member", seconds: 600) {
            for r in shard.running where await r.state.bitcoinTip.height != 2 { return false }
            return true
        })
        let proof = try #require(block.inclusionProof(txid: deposit.txid))
        let mint = try MintRequest(depositTransaction: deposit.serialized(), outputIndex: 0, transactionIndex: proof.index,
                                   transactionCount: UInt32(proof.transactionCount), siblings: proof.siblings, blockHash: block.header.hash,
                                   pHash: pHash, sHash: sHash, to: to, nonce: nonce)
        let nHash = try mint.nHash()
        _ = try await shard.running[1].submit(.mint(mint))
        #expect(await waitFor("the mint signed with a presignature made before the restart", seconds: 300) {
            await shard.running[0].state.request(id: nHash)?.signature != nil
        })
        let request = try #require(await shard.running[0].state.request(id: nHash))
        let authorisation = try #require(request.mintAuthorisation(shardKey: shardKey))
        let digest = try RenVMHashes.mintDigest(pHash: pHash, amount: 50_000, sHash: sHash, to: to, nHash: nHash)
        #expect(try RecoverableSignature(evm: authorisation).recoverPublicKey(digest: digest).evmAddress == shardKey.evmAddress)
        // The used presignature's record is gone from every member's store.
        let used = try #require(request.presignature)
        #expect(await waitFor("the used presignature deleted everywhere", seconds: 600) {
            for r in shard.running where (try? r.store.loadPresignatures().contains { $0.id == used }) != false { return false }
            return true
        })
        await shard.stopAll()
    }
}
