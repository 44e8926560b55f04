import Bitcoin
import Consensus
import Crypto
import Foundation
import Secp256k1
import Shard
import Testing
import TestSupport

@testable import Node

/// The shard end to end against independent oracles: four nodes generate the key, a user's deposit (a real
/// Bitcoin transaction spending a mature regtest coinbase, BIP143-signed) pays 100 gateways; all 100 mints are
/// committed and signed by the committee, and every mint authorisation verifies under python-ecdsa/coincurve and
/// recovers to the shard's EVM address; then the shard sweeps 24 custody coins, and Bitcoin Core's
/// libbitcoinkernel accepts the block with the deposit and the block with the committee-signed sweep.
@Suite(.serialized) struct CoreAcceptsShardTests {
    struct Funded: Decodable {
        struct Coin: Decodable { let txid: String; let vout: UInt32; let value: UInt64; let height: Int }
        let coinbases: [Coin]
    }
    struct Validated: Decodable {
        struct Step: Decodable { let name: String; let height: Int; let accepted: Bool; let error: String? }
        let steps: [Step]
    }
    struct Step: Encodable { let name: String; let txs: [String]; let empty_blocks_before: Int }

    static var configuration: NodeConfiguration {
        var c = TestShard.fastConfiguration
        c.mpc.presignBatch = 64
        c.mpc.presignaturePoolTarget = 128
        c.mpc.presignInterval = 1
        c.mpc.presignSessionsMax = 2
        return c
    }

    func oracle(_ request: [String: Any]) throws -> Data {
        try PythonOracle.run(script: "bitcoin_regtest_oracle.py", input: JSONSerialization.data(withJSONObject: request))
    }

    @Test func hundredMintsSignedAndASweepThatBitcoinCoreAccepts() async throws {
        guard PythonOracle.isAvailable else {
            if PythonOracle.isRequired { Issue.record("\(PythonOracle.missingMessage)") }
            return
        }
        let user = try PrivateKey(bytes: Array(SHA256.hash(data: Array("node-tests/user".utf8))))
        let userScript = Script.p2wpkh(BitcoinHash.hash160(user.publicKey.compressed))
        let fundingBlocks = 101
        let funded = try JSONDecoder().decode(Funded.self, from: oracle(["mode": "fund", "user_script": Hex.encode(userScript.bytes), "blocks": fundingBlocks]))

        let shard = try TestShard(nodes: 4, configuration: Self.configuration)
        try await shard.startAll()
        #expect(await waitFor("shard key on every node", seconds: 900) {
            for r in shard.running where await r.state.shardKey == nil { return false }
            return true
        })
        let shardKey = try #require(await shard.running[0].state.shardKey)

        // The deposit: one coinbase paying 100 gateways, change to the user.
        let count = 100, amount: UInt64 = 10_000_000
        let sHash = RenVMHashes.sHash(selector: "BTC/toEthereum")
        let intents: [(pHash: [UInt8], to: [UInt8], nonce: [UInt8])] = (0..<count).map { i in
            (RenVMHashes.pHash(payload: Array("payload \(i)".utf8)), Array(SHA256.hash(data: Array("to \(i)".utf8)).prefix(20)),
             Array(SHA256.hash(data: Array("nonce \(i)".utf8))))
        }
        let coin = funded.coinbases[0]
        var deposit = Transaction(version: 2, inputs: [TxInput(previousOutput: try OutPoint(displayTxid: coin.txid, index: coin.vout))])
        for intent in intents {
            let gHash = try RenVMHashes.gHash(pHash: intent.pHash, sHash: sHash, to: intent.to, nonce: intent.nonce)
            deposit.outputs.append(TxOutput(value: amount, scriptPubKey: try GatewayScript(gHash: gHash, shardKey: shardKey, recovery: shard.genesis.recovery).scriptPubKey))
        }
        deposit.outputs.append(TxOutput(value: coin.value - amount * UInt64(count) - 100_000, scriptPubKey: userScript))
        let digest = try SegwitSighasher(deposit).sighash(inputIndex: 0, scriptCode: .p2pkh(BitcoinHash.hash160(user.publicKey.compressed)), amount: coin.value, type: .all)
        deposit.inputs[0].witness = [try user.signature(for: digest).der + [0x01], user.publicKey.compressed]

        // The shard sees Bitcoin only through relayed headers and proofs: a local regtest chain holding the deposit.
        var miner = RegtestMiner()
        let block = miner.mine([deposit])
        _ = try await shard.running[0].submit(.bitcoinHeaders([block.header, miner.mine().header]))
        #expect(await waitFor("headers relayed on every node", seconds: 600) {
            for r in shard.running where await r.state.bitcoinTip.height != 2 { return false }
            return true
        })
        let proof = try #require(block.inclusionProof(txid: deposit.txid))
        var nHashes: [[UInt8]] = []
        for (i, intent) in intents.enumerated() {
            let mint = try MintRequest(depositTransaction: deposit.serialized(), outputIndex: UInt32(i), transactionIndex: proof.index,
                                       transactionCount: UInt32(proof.transactionCount), siblings: proof.siblings, blockHash: block.header.hash,
                                       pHash: intent.pHash, sHash: sHash, to: intent.to, nonce: intent.nonce)
            nHashes.append(try mint.nHash())
            _ = try await shard.running[i % 4].submit(.mint(mint))
        }
        #expect(await waitFor("100 mints signed", seconds: 900) {
            let state = await shard.running[1].state
            return nHashes.allSatisfy { state.request(id: $0)?.signature != nil }
        })
        let state = await shard.running[1].state
        var lines: [String] = []
        for (i, nHash) in nHashes.enumerated() {
            let request = try #require(state.request(id: nHash))
            let authorisation = try #require(request.mintAuthorisation(shardKey: shardKey))
            let expected = try RenVMHashes.mintDigest(pHash: intents[i].pHash, amount: amount, sHash: sHash, to: intents[i].to, nHash: nHash)
            #expect(request.digest == expected)
            let signature = try RecoverableSignature(evm: authorisation)
            let fields: [String: Any] = ["kind": "signature", "publicKey": Hex.encode(shardKey.compressed), "digest": Hex.encode(expected),
                                         "der": Hex.encode(signature.signature.der), "recoveryId": Int(signature.recoveryID),
                                         "evmAddress": shardKey.evmAddressString]
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self))
        }
        let verdicts = String(decoding: try PythonOracle.run(script: "mpc_verify.py", input: Data((lines.joined(separator: "\n") + "\n").utf8)), as: UTF8.self)
            .split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(verdicts.count == count)
        #expect(verdicts.allSatisfy { $0["ok"] as? Bool == true }, "oracle: \(verdicts.filter { $0["ok"] as? Bool != true }.prefix(3))")

        // Sweep 24 custody coins into one fresh custody output; the committee signs every input.
        let coins = Array(state.spendableCoins.prefix(24)).map(\.outpoint)
        _ = try await shard.running[2].submit(.sweep(SweepRequest(coins: coins, feeRate: 2)))
        #expect(await waitFor("sweep committed", seconds: 600) { await shard.running[0].state.sweepTxid(spending: coins[0]) != nil })
        let sweepID = try #require(await shard.running[0].state.sweepTxid(spending: coins[0]))
        #expect(await waitFor("sweep signed", seconds: 900) { (try? await shard.running[0].state.signedSweep(txid: sweepID)) != nil })
        let signedSweep = try await shard.running[0].state.signedSweep(txid: sweepID)
        #expect(signedSweep.inputs.count == 24)

        let steps = [
            Step(name: "deposit", txs: [Hex.encode(deposit.serialized())], empty_blocks_before: 0),
            Step(name: "sweep", txs: [Hex.encode(signedSweep.serialized())], empty_blocks_before: 0),
        ]
        let request: [String: Any] = [
            "mode": "validate", "user_script": Hex.encode(userScript.bytes), "blocks": fundingBlocks,
            "steps": try JSONSerialization.jsonObject(with: JSONEncoder().encode(steps)), "script_checks": [Any](),
        ]
        let result = try JSONDecoder().decode(Validated.self, from: oracle(request))
        #expect(result.steps.map(\.accepted) == [true, true], "Core: \(result.steps.map { "\($0.name): \($0.error ?? "ok")" })")
        await shard.stopAll()
    }

}
