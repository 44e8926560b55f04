import Bitcoin
import Consensus
import Crypto
import Foundation
import Secp256k1

@testable import Shard

/// The shard's canonical codec (Sources/Shard/Codec): transactions, blocks, genesis and state snapshots. Decoding is
/// canonical, so every accepted input re-encodes to exactly itself; accepted transactions and blocks then go through
/// the rules (block builder, `apply`) on a fresh regtest shard.
enum ShardFuzzTargets {
    static let builders: [FuzzTargetBuilder] = [
        ("shard-transaction", { _ in try shardTransaction() }),
        ("shard-block", { _ in try shardBlock() }),
        ("shard-genesis", { _ in try shardGenesis() }),
    ]

    struct Shard {
        let genesis: ShardGenesis
        let state: ShardState
        let transactions: [ShardTransaction]

        init() throws {
            func key(_ i: Int) throws -> PrivateKey { try PrivateKey(bytes: Array(SHA256.hash(data: Array("darknode/fuzz/key/\(i)".utf8)))) }
            let committee = try (0..<4).map(key)
            let recovery = try RecoveryPolicy(threshold: 2, keys: [try key(20).publicKey, try key(21).publicKey, try key(22).publicKey])
            genesis = try ShardGenesis(chainID: "fuzz", committee: committee.map(\.publicKey), threshold: 1, bitcoinNetwork: .regtest,
                                       checkpoint: RegtestMiner.genesisCheckpoint, confirmationsRequired: 2, recovery: recovery,
                                       selectors: ["BTC/toEthereum"])
            var fresh = ShardState(genesis: genesis)
            let shardKey = try key(1_000)
            let registration = ShardTransaction.shardKey(ShardKeyRegistration(epoch: 0, key: shardKey.publicKey))
            _ = try fresh.applyCandidate(registration)
            state = fresh
            var miner = RegtestMiner()
            let deposit = Transaction(inputs: [TxInput(previousOutput: OutPoint(txid: [UInt8](repeating: 0x99, count: 32), index: 3))],
                                      outputs: [TxOutput(value: 50_000, scriptPubKey: Script([0x51] as [UInt8]))])
            let mined = miner.mine([deposit])
            let proof = mined.inclusionProof(txid: deposit.txid)!
            let headers = [mined.header, miner.mine().header, miner.mine().header]
            let signature = try shardKey.signature(for: [UInt8](repeating: 0x42, count: 32))
            transactions = [
                registration,
                .bitcoinHeaders(headers),
                .mint(try MintRequest(depositTransaction: deposit.serialized(), outputIndex: 0, transactionIndex: proof.index,
                                      transactionCount: UInt32(proof.transactionCount), siblings: proof.siblings, blockHash: mined.header.hash,
                                      pHash: [UInt8](repeating: 1, count: 32), sHash: RenVMHashes.sHash(selector: "BTC/toEthereum"),
                                      to: [UInt8](repeating: 2, count: 20), nonce: [UInt8](repeating: 3, count: 32))),
                .sweep(SweepRequest(coins: [OutPoint(txid: deposit.txid, index: 0)], feeRate: 5)),
                .presignatures(PresignatureBatch(epoch: 0, ids: [[UInt8](repeating: 4, count: 32), [UInt8](repeating: 5, count: 32)])),
                .signatures([SignatureResult(requestID: [UInt8](repeating: 6, count: 32), signature: signature)]),
                .mpcBroadcast(try MPCBroadcast(epoch: 0, session: [UInt8](repeating: 7, count: 32), sender: 1, round: 2,
                                               payload: [1, 2, 3], signature: [UInt8](repeating: 8, count: 64))),
            ]
        }
    }

    static func shardTransaction() throws -> FuzzTarget {
        let shard = try Shard()
        return FuzzTarget(name: "shard-transaction", seeds: shard.transactions.map(\.encoded)) { bytes throws(FuzzFinding) in
            guard let tx = try? ShardTransaction(decoding: bytes) else { return }
            guard tx.encoded == bytes else {
                throw FuzzFinding(target: "shard-transaction", detail: "a decoded transaction does not re-encode to its bytes")
            }
            _ = BlockBuilder.build(on: shard.state, candidates: [tx])
        }
    }

    static func shardBlock() throws -> FuzzTarget {
        let shard = try Shard()
        let block = BlockBuilder.build(on: shard.state, candidates: Array(shard.transactions.dropFirst())).block
        let empty = BlockBuilder.build(on: shard.state, candidates: []).block
        return FuzzTarget(name: "shard-block", seeds: [block.encoded, empty.encoded]) { bytes throws(FuzzFinding) in
            guard let decoded = try? ShardBlock(decoding: bytes) else { return }
            guard decoded.encoded == bytes else {
                throw FuzzFinding(target: "shard-block", detail: "a decoded block does not re-encode to its bytes")
            }
            var state = shard.state
            _ = try? state.apply(decoded)
        }
    }

    /// Genesis documents and state snapshots (the sealed store's content after a restart).
    static func shardGenesis() throws -> FuzzTarget {
        let shard = try Shard()
        var state = shard.state
        _ = try? state.apply(BlockBuilder.build(on: shard.state, candidates: Array(shard.transactions.dropFirst())).block)
        let seeds = [[0] + shard.genesis.encoded, [1] + shard.state.encoded, [1] + state.encoded]
        return FuzzTarget(name: "shard-genesis", seeds: seeds) { input throws(FuzzFinding) in
            guard let selector = input.first else { return }
            let body = Array(input.dropFirst())
            if selector % 2 == 0 {
                guard let genesis = try? ShardGenesis(decoding: body) else { return }
                guard genesis.encoded == body else {
                    throw FuzzFinding(target: "shard-genesis", detail: "a decoded genesis does not re-encode to its bytes")
                }
            } else {
                guard let decoded = try? ShardState(genesis: shard.genesis, decoding: body) else { return }
                guard decoded.encoded == body else {
                    throw FuzzFinding(target: "shard-genesis", detail: "a decoded state does not re-encode to its bytes")
                }
            }
        }
    }
}
