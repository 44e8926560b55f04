import Bitcoin
import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Secp256k1
import Shard

/// A minimal JSON-RPC 2.0 client over HTTP for the localnet demo: the same requests any wallet or relayer sends.
struct JSONRPCClient: Sendable {
    let url: URL

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func call(_ method: String, _ params: [String: Any]) async throws -> [String: Any] {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["jsonrpc": "2.0", "id": 1, "method": method, "params": params])
        let (data, _) = try await URLSession.shared.data(for: request)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw Failure(description: "\(method): not a JSON object") }
        if let error = object["error"] as? [String: Any] { throw Failure(description: "\(method): \(error["message"] ?? error)") }
        return object["result"] as? [String: Any] ?? [:]
    }
}

/// The demo a localnet runs with `--demo`, as an outside client would: regtest deposits to the shard's gateways in
/// blocks mined locally with this project's Bitcoin code, the headers relayed and the mints submitted over JSON-RPC,
/// each mint authorisation checked (it must recover to the shard key's EVM address over RenVM's mint digest), then
/// a sweep of the deposits' custody coins, printed once the committee has signed every input.
struct LocalnetDemo {
    let rpc: [JSONRPCClient]
    let genesis: ShardGenesis
    let shardKey: PublicKey
    let deposits: Int

    func run() async throws {
        let sHash = RenVMHashes.sHash(selector: "BTC/toEthereum")
        var miner = RegtestMiner()
        var intents: [(pHash: [UInt8], to: [UInt8], nonce: [UInt8], gateway: GatewayScript)] = []
        var transactions: [Transaction] = []
        for i in 0..<deposits {
            let pHash = RenVMHashes.pHash(payload: Array("localnet demo \(i)".utf8))
            let to = Array(SHA256.hash(data: Array("demo recipient \(i)".utf8)).prefix(20))
            let nonce = Array(SHA256.hash(data: Array("demo nonce \(i) \(Date().timeIntervalSince1970)".utf8)))
            let gHash = try RenVMHashes.gHash(pHash: pHash, sHash: sHash, to: to, nonce: nonce)
            let gateway = try GatewayScript(gHash: gHash, shardKey: shardKey, recovery: genesis.recovery)
            intents.append((pHash, to, nonce, gateway))
            // The demo has no Bitcoin node: its deposit spends a made-up outpoint. The shard checks inclusion in the
            // relayed, proof-of-work-checked chain and the output, never the inputs (Core's validation of real
            // deposits and of the shard's sweep is shown by Tests/NodeTests/CoreAcceptsShardTests).
            transactions.append(Transaction(inputs: [TxInput(previousOutput: OutPoint(txid: Array(SHA256.hash(data: nonce)), index: 0), witness: [[1]])],
                                            outputs: [TxOutput(value: 1_000_000 + UInt64(i), scriptPubKey: gateway.scriptPubKey)]))
        }
        say("demo: gateway address of deposit 0: \(intents[0].gateway.address(network: genesis.bitcoinNetwork))")
        let block = miner.mine(transactions)
        var headers = [block.header]
        for _ in 1..<genesis.confirmationsRequired { headers.append(miner.mine().header) }
        say("demo: mined regtest block \(block.header.displayHash) with \(deposits) deposit(s), \(headers.count) block(s) in all")
        _ = try await rpc[0].call("darknode_submitHeaders", ["headers": headers.map { Hex.encode($0.serialized) }])
        // Every member must hold the headers before it judges a mint against them.
        try await waitFor("headers relayed") {
            for client in rpc where (try await client.call("darknode_status", [:])["bitcoinTipHeight"] as? Int ?? 0) < headers.count { return false }
            return true
        }

        var nHashes: [[UInt8]] = []
        for (i, tx) in transactions.enumerated() {
            let proof = block.inclusionProof(txid: tx.txid)!
            let mint = try MintRequest(depositTransaction: tx.serialized(), outputIndex: 0, transactionIndex: proof.index,
                                       transactionCount: UInt32(proof.transactionCount), siblings: proof.siblings, blockHash: block.header.hash,
                                       pHash: intents[i].pHash, sHash: sHash, to: intents[i].to, nonce: intents[i].nonce)
            nHashes.append(try mint.nHash())
            _ = try await rpc[i % rpc.count].call("darknode_submitShardTx", ["tx": Hex.encode(ShardTransaction.mint(mint).encoded)])
        }
        say("demo: submitted \(deposits) mint request(s) over JSON-RPC")
        for (i, nHash) in nHashes.enumerated() {
            var authorisation: [UInt8] = []
            try await waitFor("mint \(i) signed") {
                let r = try await rpc[(i + 1) % rpc.count].call("darknode_queryMint", ["nHash": Hex.encode(nHash)])
                authorisation = (r["authorisation"] as? String).flatMap { Hex.decode($0) } ?? []
                return authorisation.count == 65
            }
            let digest = try RenVMHashes.mintDigest(pHash: intents[i].pHash, amount: 1_000_000 + UInt64(i), sHash: sHash, to: intents[i].to, nHash: nHash)
            let signer = try RecoverableSignature(evm: authorisation).recoverPublicKey(digest: digest)
            guard signer.evmAddress == shardKey.evmAddress else { throw JSONRPCClient.Failure(description: "mint \(i) authorisation recovers to another address") }
            say("demo: mint \(i) nHash \(Hex.encode(nHash.prefix(8)))… authorisation \(Hex.encode(authorisation)) — recovers to \(signer.evmAddressString) ✓")
        }

        let coins = transactions.map { OutPoint(txid: $0.txid, index: 0) }.sorted { $0.txid == $1.txid ? $0.index < $1.index : $0.txid.lexicographicallyPrecedes($1.txid) }
        _ = try await rpc[0].call("darknode_submitShardTx", ["tx": Hex.encode(ShardTransaction.sweep(SweepRequest(coins: coins, feeRate: 2)).encoded)])
        var signed = ""
        try await waitFor("sweep signed") {
            let r = try await rpc[1].call("darknode_querySweep", ["coin": "\(Hex.encode(coins[0].txid)):\(coins[0].index)"])
            signed = r["transaction"] as? String ?? ""
            return !signed.isEmpty
        }
        let sweep = try Transaction(parsing: Hex.decode(signed) ?? [])
        say("demo: sweep \(sweep.displayTxid) spends \(sweep.inputs.count) custody coin(s) into \(sweep.outputs[0].value) sat at the custody address, every input signed by the committee:")
        say(signed)
    }

    func waitFor(_ what: String, seconds: Double = 120, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw JSONRPCClient.Failure(description: "demo: gave up waiting for \(what)")
    }
}
