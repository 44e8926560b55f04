// Goal: Bitcoin Core's own validation code accepts the transactions this module builds. Method: the Swift side
// builds and signs every transaction with deterministic keys; scripts/oracles/bitcoin_regtest_oracle.py mines
// them into a regtest chain with verystable and judges each block with py-bitcoinkernel (libbitcoinkernel's
// process_block, which enforces BIP68/112 relative locks), plus libbitcoinkernel's script interpreter per input.
// Scenario: a deposit to 23 gateways; gateway 0 spent at once through the network branch; a release spending 21
// gateways; a sweep of the custody change; the recovery branch refused at depth 1007 and accepted at 1008.
import Bitcoin
import Foundation
import Secp256k1
import Testing
import TestSupport

@Suite(.dedicatedThread) struct CoreValidationTests {
    struct Funded: Decodable {
        struct Coin: Decodable { let txid: String; let vout: UInt32; let value: UInt64; let height: Int }
        let coinbases: [Coin]
    }
    struct Validated: Decodable {
        struct Step: Decodable { let name: String; let height: Int; let accepted: Bool; let error: String?; let txids: [String] }
        let steps: [Step]
        let script_checks: [Bool]
        let tip_height: Int
        let headers: [String]
    }
    struct ScriptCheck: Encodable { let tx: String; let input: Int; let script_pubkey: String; let amount: UInt64 }
    struct Step: Encodable { let name: String; let txs: [String]; let empty_blocks_before: Int }

    let user = testKey(100)
    let shard = testKey(1)
    let recoveryKeys = [testKey(10), testKey(11), testKey(12)]
    var userScript: Script { Script.p2wpkh(BitcoinHash.hash160(user.publicKey.compressed)) }

    func oracle(_ request: [String: Any]) throws -> Data {
        try PythonOracle.run(script: "bitcoin_regtest_oracle.py", input: JSONSerialization.data(withJSONObject: request))
    }

    func gateway(_ i: Int) throws -> GatewayScript {
        var nonce = [UInt8](repeating: 0, count: 32)
        nonce[31] = UInt8(i)
        let gHash = try RenVMHashes.gHash(pHash: RenVMHashes.pHash(payload: [UInt8(i)]), sHash: RenVMHashes.sHash(selector: "BTC/toEthereum"),
                                          to: [UInt8](repeating: 0xEE, count: 20), nonce: nonce)
        return try GatewayScript(gHash: gHash, shardKey: shard.publicKey,
                                 recovery: RecoveryPolicy(threshold: 2, keys: recoveryKeys.map(\.publicKey)))
    }

    var custody: GatewayScript {
        get throws { try GatewayScript(gHash: nil, shardKey: shard.publicKey, recovery: RecoveryPolicy(threshold: 2, keys: recoveryKeys.map(\.publicKey))) }
    }

    /// The user's deposit: one mature coinbase paying 23 gateways, change back to the user (P2WPKH, BIP143-signed).
    func deposit(from coin: Funded.Coin, gateways: [GatewayScript], amount: UInt64) throws -> Transaction {
        var tx = Transaction(version: 2, inputs: [TxInput(previousOutput: try OutPoint(displayTxid: coin.txid, index: coin.vout))])
        tx.outputs = gateways.map { TxOutput(value: amount, scriptPubKey: $0.scriptPubKey) }
        let fee: UInt64 = 20_000
        tx.outputs.append(TxOutput(value: coin.value - amount * UInt64(gateways.count) - fee, scriptPubKey: userScript))
        let digest = try SegwitSighasher(tx).sighash(inputIndex: 0, scriptCode: .p2pkh(BitcoinHash.hash160(user.publicKey.compressed)), amount: coin.value, type: .all)
        tx.inputs[0].witness = [try user.signature(for: digest).der + [0x01], user.publicKey.compressed]
        return tx
    }

    func signNetwork(_ spend: inout GatewaySpend, key: PrivateKey) throws {
        try spend.applyNetworkSignatures(spend.sighashes().map { try key.signature(for: $0) })
    }

    @Test func coreAcceptsGatewayTransactions() throws {
        guard PythonOracle.isAvailable else {
            if PythonOracle.isRequired { Issue.record("\(PythonOracle.missingMessage)") }
            return
        }
        let fundingBlocks = 101
        let funded = try JSONDecoder().decode(Funded.self, from: oracle(["mode": "fund", "user_script": Hex.encode(userScript.bytes), "blocks": fundingBlocks]))
        let gateways = try (0..<23).map(gateway)
        let amount: UInt64 = 50_000_000
        let depositTx = try deposit(from: funded.coinbases[0], gateways: gateways, amount: amount)
        let depositHeight = fundingBlocks + 1
        let coins = gateways.enumerated().map { GatewayCoin(outpoint: OutPoint(txid: depositTx.txid, index: UInt32($0.offset)), value: amount, script: $0.element) }
        let fee = FeeRate(satoshisPerVirtualByte: 2)

        // Network branch, at once (next block).
        var immediate = try GatewaySpend(coins: [coins[0]], branch: .network, payments: [TxOutput(value: 30_000_000, scriptPubKey: userScript)], changeScript: custody.scriptPubKey, feeRate: fee)
        try signNetwork(&immediate, key: shard)

        // Release: 21 gateway inputs, payments to every destination kind, change to custody.
        let destinations: [(Destination, UInt64)] = [
            (.p2wpkh([UInt8](repeating: 0x01, count: 20)), 100_000_000), (.p2tr([UInt8](repeating: 0x02, count: 32)), 200_000_000),
            (.p2pkh([UInt8](repeating: 0x03, count: 20)), 150_000_000), (.p2sh([UInt8](repeating: 0x04, count: 20)), 120_000_000),
            (.p2wsh([UInt8](repeating: 0x05, count: 32)), 90_000_000),
        ]
        var release = try GatewaySpend.release(coins: Array(coins[1...21]), payments: destinations, change: custody, feeRate: fee)
        try signNetwork(&release, key: shard)
        #expect(release.transaction.inputs.count == 21)
        #expect(release.fee >= UInt64(release.transaction.virtualSize) * 2)

        // Sweep: the custody change of both spends into one fresh custody output.
        let custodyCoins = [
            GatewayCoin(outpoint: OutPoint(txid: immediate.transaction.txid, index: 1), value: immediate.transaction.outputs[1].value, script: try custody),
            GatewayCoin(outpoint: OutPoint(txid: release.transaction.txid, index: UInt32(destinations.count)), value: release.transaction.outputs.last!.value, script: try custody),
        ]
        var sweep = try GatewaySpend.sweep(coins: custodyCoins, to: custody, feeRate: fee)
        try signNetwork(&sweep, key: shard)

        // Recovery: 2 of 3 recovery keys, nSequence = 1008.
        var recovery = try GatewaySpend.recovery(coins: [coins[22]], to: userScript, feeRate: fee)
        #expect(recovery.transaction.inputs[0].sequence == 1008)
        let recoveryDigest = recovery.sighashes()[0]
        try recovery.applyRecoverySignatures([[(2, try recoveryKeys[2].signature(for: recoveryDigest)), (0, try recoveryKeys[0].signature(for: recoveryDigest))]])

        // Negative controls for the script interpreter: a shorter CSV sequence, a wrong shard key, one signature.
        var shortTx = recovery.transaction
        shortTx.inputs[0].sequence = 1007
        let shortDigest = try SegwitSighasher(shortTx).sighash(inputIndex: 0, scriptCode: coins[22].script.witnessScript, amount: amount, type: .all)
        shortTx.inputs[0].witness = coins[22].script.recoveryWitness(signatures: [try recoveryKeys[0].signature(for: shortDigest).der + [1], try recoveryKeys[1].signature(for: shortDigest).der + [1]])
        var wrongKey = immediate.transaction
        wrongKey.inputs[0].witness = coins[0].script.networkWitness(signature: try testKey(99).signature(for: immediate.sighashes()[0]).der + [1])
        var oneSignature = recovery.transaction
        oneSignature.inputs[0].witness = [[], oneSignature.inputs[0].witness[1], [], coins[22].script.witnessScript.bytes]

        var checks: [ScriptCheck] = []
        func check(_ tx: Transaction, _ i: Int, _ coin: GatewayCoin) {
            checks.append(ScriptCheck(tx: Hex.encode(tx.serialized()), input: i, script_pubkey: Hex.encode(coin.script.scriptPubKey.bytes), amount: coin.value))
        }
        check(immediate.transaction, 0, coins[0])
        for i in 0..<21 { check(release.transaction, i, coins[1 + i]) }
        for i in 0..<2 { check(sweep.transaction, i, custodyCoins[i]) }
        check(recovery.transaction, 0, coins[22])
        check(shortTx, 0, coins[22])
        check(wrongKey, 0, coins[0])
        check(oneSignature, 0, coins[22])

        let sweepHeight = depositHeight + 3
        let steps = [
            Step(name: "deposit", txs: [Hex.encode(depositTx.serialized())], empty_blocks_before: 0),
            Step(name: "network branch at once", txs: [Hex.encode(immediate.transaction.serialized())], empty_blocks_before: 0),
            Step(name: "release with 21 gateway inputs", txs: [Hex.encode(release.transaction.serialized())], empty_blocks_before: 0),
            Step(name: "sweep", txs: [Hex.encode(sweep.transaction.serialized())], empty_blocks_before: 0),
            // Block at depositHeight + 1007: the gateway coin has 1007 confirmations.
            Step(name: "recovery at depth 1007", txs: [Hex.encode(recovery.transaction.serialized())], empty_blocks_before: depositHeight + 1007 - sweepHeight - 1),
            Step(name: "recovery at depth 1008", txs: [Hex.encode(recovery.transaction.serialized())], empty_blocks_before: 1),
        ]
        let request: [String: Any] = [
            "mode": "validate", "user_script": Hex.encode(userScript.bytes), "blocks": fundingBlocks,
            "steps": try JSONSerialization.jsonObject(with: JSONEncoder().encode(steps)),
            "script_checks": try JSONSerialization.jsonObject(with: JSONEncoder().encode(checks)),
        ]
        let result = try JSONDecoder().decode(Validated.self, from: oracle(request))
        let outcome = Dictionary(uniqueKeysWithValues: result.steps.map { ($0.name, $0) })
        #expect(outcome["deposit"]?.accepted == true)
        #expect(outcome["network branch at once"]?.accepted == true)
        #expect(outcome["release with 21 gateway inputs"]?.accepted == true)
        #expect(outcome["sweep"]?.accepted == true)
        #expect(outcome["recovery at depth 1007"]?.accepted == false)
        #expect(outcome["recovery at depth 1007"]?.height == depositHeight + 1007)
        #expect(outcome["recovery at depth 1008"]?.accepted == true)
        #expect(outcome["recovery at depth 1008"]?.height == depositHeight + 1008)
        #expect(result.tip_height == depositHeight + 1008)
        #expect(result.script_checks == [Bool](repeating: true, count: 25) + [false, false, false])

        // The deposit is provable without a node: our SPV verifier on Core's regtest headers.
        let headers = try result.headers.map { try BlockHeader(parsing: hex($0)) }
        let depositBlock = outcome["deposit"]!
        let txids = depositBlock.txids.map { Array(hex($0).reversed()) }
        let txIndex = txids.firstIndex(of: depositTx.txid)!
        let proof = DepositProof(transaction: depositTx.serialized(), outputIndex: 5, transactionIndex: UInt32(txIndex),
                                 siblings: Merkle.path(txids, index: txIndex), transactionCount: txids.count,
                                 headers: Array(headers.dropFirst()), blockIndex: depositHeight - 2)
        let checkpoint = ChainCheckpoint(header: headers[0], height: 1, periodStartTime: headers[0].time)
        let verified = try proof.verify(parameters: .regtest, checkpoint: checkpoint, expectedScript: gateways[5].scriptPubKey,
                                        minimumValue: amount, minimumConfirmations: 6)
        #expect(verified.blockHeight == depositHeight)
        #expect(verified.confirmations == result.tip_height - depositHeight + 1)
        #expect(throws: BitcoinError.self) {
            try proof.verify(parameters: .regtest, checkpoint: checkpoint, expectedScript: gateways[6].scriptPubKey, minimumConfirmations: 6)
        }
        #expect(throws: BitcoinError.self) {
            try proof.verify(parameters: .regtest, checkpoint: checkpoint, expectedScript: gateways[5].scriptPubKey, minimumConfirmations: 2000)
        }
    }
}
