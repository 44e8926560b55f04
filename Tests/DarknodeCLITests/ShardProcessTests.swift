import Bitcoin
import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Secp256k1
import Shard
import Testing
import TestSupport

/// The shard as four real processes (sockets, EKEP, sealed stores), driven only through JSON-RPC, against the
/// independent oracles: a user's deposit (a real Bitcoin transaction spending a mature regtest coinbase) pays 100
/// gateways; the 100 mints are committed while one member is SIGKILLed and later restarted; every mint authorisation
/// verifies under python-ecdsa/coincurve and recovers to the shard's EVM address; the restarted member catches up by
/// sync and serves the same authorisations; each request was assigned one presignature and signed once; then the shard
/// sweeps 24 custody coins and Bitcoin Core's libbitcoinkernel accepts the deposit block and the sweep.
@Suite("shard processes: 100 mints with a member killed, Core and Python oracles", .serialized)
struct ShardProcessTests {
    /// A `darknode run --data-dir` member, configured by the darknode.toml `localnet` wrote; its JSON lines go to a file.
    final class Member {
        let process = Process()
        let log: URL

        init(dataDir: String, log: URL) throws {
            self.log = log
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.executableURL = AttestCLITests.darknode
            process.arguments = ["run", "--data-dir", dataDir, "--idle-block-interval-ms", "50"]
            process.standardOutput = try FileHandle(forWritingTo: log)
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
        }

        var events: [[String: Any]] {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        }

        /// The shard events of every block this member decided, in order.
        var shardEvents: [String] {
            events.filter { $0["event"] as? String == "decided" }.flatMap { $0["shard"] as? [String] ?? [] }
        }

        func kill() {
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        deinit { kill() }
    }

    struct RPC {
        let url: URL

        struct Failure: Error, CustomStringConvertible { let description: String }

        func call(_ method: String, _ params: [String: Any] = [:]) async throws -> [String: Any] {
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.timeoutInterval = 60
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: ["jsonrpc": "2.0", "id": 1, "method": method, "params": params])
            let (data, _) = try await URLSession.shared.data(for: request)
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw Failure(description: "\(method): not an object") }
            if let error = object["error"] { throw Failure(description: "\(method): \(error)") }
            return object["result"] as? [String: Any] ?? [:]
        }

        func authorisation(_ nHash: [UInt8]) async -> [UInt8]? {
            let result = try? await call("darknode_queryMint", ["nHash": Hex.encode(nHash)])
            return (result?["authorisation"] as? String).flatMap { Hex.decode($0) }
        }
    }

    struct Funded: Decodable {
        struct Coin: Decodable { let txid: String; let vout: UInt32; let value: UInt64; let height: Int }
        let coinbases: [Coin]
    }
    struct Validated: Decodable {
        struct Step: Decodable { let name: String; let height: Int; let accepted: Bool; let error: String? }
        let steps: [Step]
    }

    func oracle(_ script: String, _ input: Data) throws -> Data { try PythonOracle.run(script: script, input: input) }

    @Test func hundredMintsWithAMemberKilledAndRestartedThenASweepCoreAccepts() async throws {
        guard PythonOracle.isAvailable else {
            if PythonOracle.isRequired { Issue.record("\(PythonOracle.missingMessage)") }
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shard-process-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let basePort = Int.random(in: 20_000...40_000)

        // 1. `localnet` creates the committee, writes each member's darknode.toml and runs key generation.
        let localnet = try AttestCLITests.run(AttestCLITests.darknode, ["localnet", "--nodes", "4", "--blocks", "2", "--dir", dir,
                                                                        "--base-port", "\(basePort)"])
        try #require(localnet.status == 0, "localnet failed: \(localnet.standardOutput) \(localnet.standardError)")
        try #require(localnet.standardOutput.contains("localnet: shard key"))

        // 2. The four members as separate processes, configured by their files.
        var members = try (0..<4).map { try Member(dataDir: dir + "/node-\($0)", log: URL(fileURLWithPath: dir + "/member-\($0).jsonl")) }
        defer { for m in members { m.kill() } }
        let rpc = (0..<4).map { RPC(url: URL(string: "http://127.0.0.1:\(basePort + 100 + $0)/")!) }
        var shardKeyHex = ""
        try #require(await waitFor("every member serving JSON-RPC with the shard key", seconds: 300) {
            for client in rpc {
                guard let key = try? await client.call("darknode_status")["shardKey"] as? String else { return false }
                shardKeyHex = key
            }
            return true
        })
        let shardKey = try PublicKey(encoded: try #require(Hex.decode(shardKeyHex)))
        let genesis = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/genesis.json"))) as? [String: Any]
        let recovery = try RecoveryPolicy(threshold: 2, keys: String(contentsOfFile: dir + "/recovery-keys.hex", encoding: .utf8)
            .split(separator: "\n").map { try PrivateKey(bytes: Hex.decode(String($0)) ?? []).publicKey })
        #expect(genesis != nil)

        // 3. The deposit: a mature coinbase pays 100 gateways (change to the user), BIP143-signed.
        let user = try PrivateKey(bytes: Array(SHA256.hash(data: Array("shard-process/user".utf8))))
        let userScript = Script.p2wpkh(BitcoinHash.hash160(user.publicKey.compressed))
        let fundingBlocks = 101
        let funded = try JSONDecoder().decode(Funded.self, from: oracle("bitcoin_regtest_oracle.py", JSONSerialization.data(
            withJSONObject: ["mode": "fund", "user_script": Hex.encode(userScript.bytes), "blocks": fundingBlocks])))
        let count = 100, amount: UInt64 = 10_000_000
        let sHash = RenVMHashes.sHash(selector: "BTC/toEthereum")
        let intents: [(pHash: [UInt8], to: [UInt8], nonce: [UInt8])] = (0..<count).map { i in
            (RenVMHashes.pHash(payload: Array("process payload \(i)".utf8)), Array(SHA256.hash(data: Array("process to \(i)".utf8)).prefix(20)),
             Array(SHA256.hash(data: Array("process nonce \(i)".utf8))))
        }
        let coin = funded.coinbases[0]
        var deposit = Transaction(version: 2, inputs: [TxInput(previousOutput: try OutPoint(displayTxid: coin.txid, index: coin.vout))])
        for intent in intents {
            let gHash = try RenVMHashes.gHash(pHash: intent.pHash, sHash: sHash, to: intent.to, nonce: intent.nonce)
            deposit.outputs.append(TxOutput(value: amount, scriptPubKey: try GatewayScript(gHash: gHash, shardKey: shardKey, recovery: recovery).scriptPubKey))
        }
        deposit.outputs.append(TxOutput(value: coin.value - amount * UInt64(count) - 100_000, scriptPubKey: userScript))
        let digest = try SegwitSighasher(deposit).sighash(inputIndex: 0, scriptCode: .p2pkh(BitcoinHash.hash160(user.publicKey.compressed)),
                                                          amount: coin.value, type: .all)
        deposit.inputs[0].witness = [try user.signature(for: digest).der + [0x01], user.publicKey.compressed]

        // The shard sees Bitcoin through relayed headers and proofs: a local regtest chain holding the deposit.
        var miner = RegtestMiner()
        let block = miner.mine([deposit])
        _ = try await rpc[0].call("darknode_submitHeaders", ["headers": [block.header, miner.mine().header].map { Hex.encode($0.serialized) }])
        try #require(await waitFor("headers on every member", seconds: 300) {
            for client in rpc where (try? await client.call("darknode_status")["bitcoinTipHeight"] as? Int) != 2 { return false }
            return true
        })
        let proof = try #require(block.inclusionProof(txid: deposit.txid))
        var nHashes: [[UInt8]] = []
        func submit(_ i: Int, to client: RPC) async throws {
            let mint = try MintRequest(depositTransaction: deposit.serialized(), outputIndex: UInt32(i), transactionIndex: proof.index,
                                       transactionCount: UInt32(proof.transactionCount), siblings: proof.siblings, blockHash: block.header.hash,
                                       pHash: intents[i].pHash, sHash: sHash, to: intents[i].to, nonce: intents[i].nonce)
            nHashes.append(try mint.nHash())
            _ = try await client.call("darknode_submitShardTx", ["tx": Hex.encode(ShardTransaction.mint(mint).encoded)])
        }

        // 4. Half the mints to every member; once some are signed, member 2 is SIGKILLed mid-run.
        for i in 0..<50 { try await submit(i, to: rpc[i % 4]) }
        #expect(await waitFor("10 mints signed before the kill", seconds: 300) {
            var signed = 0
            for n in nHashes.prefix(50) where await rpc[0].authorisation(n) != nil { signed += 1 }
            return signed >= 10
        })
        members[2].kill()
        // The other half to the three live members while member 2 is down.
        for i in 50..<count { try await submit(i, to: rpc[[0, 1, 3][i % 3]]) }
        #expect(await waitFor("the 100 mints signed (three members)", seconds: 600) {
            for n in nHashes where await rpc[1].authorisation(n) == nil { return false }
            return true
        })

        // 5. Member 2 restarts from its sealed store and catches up by sync; it serves the same 100 authorisations.
        members[2] = try Member(dataDir: dir + "/node-2", log: URL(fileURLWithPath: dir + "/member-2-restarted.jsonl"))
        #expect(await waitFor("restarted member 2 serving all 100 authorisations", seconds: 300) {
            for n in nHashes where await rpc[2].authorisation(n) == nil { return false }
            return true
        })
        let restart = members[2].events.first { $0["event"] as? String == "consensus-started" }
        #expect(((restart?["height"] as? NSNumber)?.intValue ?? 0) > 2, "member 2 resumed from its sealed state, not from genesis")
        #expect(members[2].events.contains { $0["event"] as? String == "sync-requested" }, "member 2 caught up by sync")

        var lines: [String] = []
        for (i, nHash) in nHashes.enumerated() {
            let authorisation = try #require(await rpc[0].authorisation(nHash))
            #expect(await rpc[2].authorisation(nHash) == authorisation, "mint \(i): the restarted member holds the same signature")
            let expected = try RenVMHashes.mintDigest(pHash: intents[i].pHash, amount: amount, sHash: sHash, to: intents[i].to, nHash: nHash)
            let signature = try RecoverableSignature(evm: authorisation)
            let fields: [String: Any] = ["kind": "signature", "publicKey": Hex.encode(shardKey.compressed), "digest": Hex.encode(expected),
                                         "der": Hex.encode(signature.signature.der), "recoveryId": Int(signature.recoveryID),
                                         "evmAddress": shardKey.evmAddressString]
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self))
        }
        let verdicts = String(decoding: try oracle("mpc_verify.py", Data((lines.joined(separator: "\n") + "\n").utf8)), as: UTF8.self)
            .split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(verdicts.count == count)
        #expect(verdicts.allSatisfy { $0["ok"] as? Bool == true }, "oracle: \(verdicts.filter { $0["ok"] as? Bool != true }.prefix(3))")

        // 6. Member 0 saw every block: each request assigned exactly one presignature, no presignature used twice,
        //    and each request signed exactly once.
        let events = members[0].shardEvents
        for nHash in nHashes {
            let id = Hex.encode(nHash)
            #expect(events.filter { $0.hasPrefix("assigned request=\(id) ") }.count == 1, "request \(id.prefix(12)) assigned once")
            #expect(events.filter { $0 == "signed request=\(id)" }.count == 1, "request \(id.prefix(12)) signed once")
        }
        let presignatures = events.filter { $0.hasPrefix("assigned ") }.compactMap { $0.split(separator: "presignature=").last.map(String.init) }
        #expect(Set(presignatures).count == presignatures.count, "no presignature assigned twice")

        // 7. The shard sweeps 24 custody coins; Core accepts the deposit's block and the committee-signed sweep.
        let coins = (0..<24).map { OutPoint(txid: deposit.txid, index: UInt32($0)) }
        _ = try await rpc[3].call("darknode_submitShardTx", ["tx": Hex.encode(ShardTransaction.sweep(SweepRequest(coins: coins, feeRate: 2)).encoded)])
        var signedSweep: Transaction?
        #expect(await waitFor("sweep signed", seconds: 300) {
            let r = try? await rpc[2].call("darknode_querySweep", ["coin": "\(Hex.encode(coins[0].txid)):0"])
            signedSweep = (r?["transaction"] as? String).flatMap { Hex.decode($0) }.flatMap { try? Transaction(parsing: $0) }
            return signedSweep != nil
        })
        let sweep = try #require(signedSweep)
        #expect(sweep.inputs.count == 24)
        let steps: [[String: Any]] = [
            ["name": "deposit", "txs": [Hex.encode(deposit.serialized())], "empty_blocks_before": 0],
            ["name": "sweep", "txs": [Hex.encode(sweep.serialized())], "empty_blocks_before": 0],
        ]
        let request: [String: Any] = ["mode": "validate", "user_script": Hex.encode(userScript.bytes), "blocks": fundingBlocks,
                                      "steps": steps, "script_checks": [Any]()]
        let result = try JSONDecoder().decode(Validated.self, from: oracle("bitcoin_regtest_oracle.py", JSONSerialization.data(withJSONObject: request)))
        #expect(result.steps.map(\.accepted) == [true, true], "Core: \(result.steps.map { "\($0.name): \($0.error ?? "ok")" })")
        #expect(members.allSatisfy { m in !m.events.contains { $0["event"] as? String == "fatal" } })
    }
}
