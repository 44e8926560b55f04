import Bitcoin
import Consensus
import Crypto
import Foundation
import Secp256k1
import Shard
import Testing
import TestSupport

@testable import Node

/// The whole signing path with four in-process nodes: key generation over consensus at genesis, the shard key
/// registered, presignature batches produced and registered, a deposit relayed and minted, the mint signed by the
/// committee through the signing gate, and the combined signature recovering to the shard key's EVM address.
@Suite(.serialized) struct SigningOverMeshTests {
    static var configuration: NodeConfiguration {
        var c = TestShard.fastConfiguration
        c.mpc.presignBatch = 4
        c.mpc.presignaturePoolTarget = 8
        c.mpc.presignInterval = 2
        return c
    }

    @Test func keyGenerationPresigningAndAMintSignedByTheCommittee() async throws {
        let shard = try TestShard(nodes: 4, configuration: Self.configuration)
        try await shard.startAll()
        #expect(await waitFor("shard key registered on every node", seconds: 900) {
            for r in shard.running where await r.state.shardKey == nil { return false }
            return true
        })
        let shardKey = try #require(await shard.running[0].state.shardKey)
        #expect(await waitFor("presignatures in the pool", seconds: 900) { await shard.running[0].state.presignaturesAvailable > 0 })

        // A deposit to the gateway of (pHash, sHash, to, nonce), mined into a regtest chain with two more blocks.
        let recovery = shard.genesis.recovery
        let nonce = Array(SHA256.hash(data: Array("nonce".utf8)))
        let pHash = RenVMHashes.pHash(payload: [])
        let sHash = RenVMHashes.sHash(selector: "BTC/toEthereum")
        let to = [UInt8](repeating: 0x42, count: 20)
        let gHash = try RenVMHashes.gHash(pHash: pHash, sHash: sHash, to: to, nonce: nonce)
        let gateway = try GatewayScript(gHash: gHash, shardKey: shardKey, recovery: recovery)
        let deposit = Transaction(inputs: [TxInput(previousOutput: OutPoint(txid: [UInt8](repeating: 5, count: 32), index: 0), witness: [[1]])],
                                  outputs: [TxOutput(value: 123_456, scriptPubKey: gateway.scriptPubKey)])
        var miner = RegtestMiner()
        let block = miner.mine([deposit])
        let headers = [block.header, miner.mine().header, miner.mine().header]
        _ = try await shard.running[0].submit(.bitcoinHeaders(headers))
        #expect(await waitFor("headers relayed on every node", seconds: 600) {
            for r in shard.running where await r.state.bitcoinTip.height != 3 { return false }
            return true
        })
        let proof = try #require(block.inclusionProof(txid: deposit.txid))
        let mint = try MintRequest(depositTransaction: deposit.serialized(), outputIndex: 0, transactionIndex: proof.index,
                                   transactionCount: UInt32(proof.transactionCount), siblings: proof.siblings, blockHash: block.header.hash,
                                   pHash: pHash, sHash: sHash, to: to, nonce: nonce)
        _ = try await shard.running[2].submit(.mint(mint))
        let nHash = try mint.nHash()
        #expect(await waitFor("mint signed", seconds: 900) { await shard.running[3].state.request(id: nHash)?.signature != nil })
        let request = try #require(await shard.running[3].state.request(id: nHash))
        let authorisation = try #require(request.mintAuthorisation(shardKey: shardKey))
        let digest = try RenVMHashes.mintDigest(pHash: pHash, amount: 123_456, sHash: sHash, to: to, nHash: nHash)
        #expect(try RecoverableSignature(evm: authorisation).recoverPublicKey(digest: digest).evmAddress == shardKey.evmAddress)
        try verifyWithOracle(publicKey: shardKey, digest: digest, authorisation: authorisation)
        await shard.stopAll()
    }

    /// The independent verifier (python-ecdsa and coincurve, pycryptodome's Keccak): the signature verifies, is
    /// low-S, and (r, s, v) recovers the shard key's EVM address, as `ecrecover` would.
    func verifyWithOracle(publicKey: PublicKey, digest: [UInt8], authorisation: [UInt8]) throws {
        guard PythonOracle.isAvailable else {
            if PythonOracle.isRequired { Issue.record("\(PythonOracle.missingMessage)") }
            return
        }
        let signature = try RecoverableSignature(evm: authorisation)
        let fields: [String: Any] = [
            "kind": "signature", "publicKey": Hex.encode(publicKey.compressed), "digest": Hex.encode(digest),
            "der": Hex.encode(signature.signature.der), "recoveryId": Int(signature.recoveryID), "evmAddress": publicKey.evmAddressString,
        ]
        let line = String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self)
        let output = try PythonOracle.run(script: "mpc_verify.py", input: Data((line + "\n").utf8))
        let result = try JSONSerialization.jsonObject(with: output) as? [String: Any]
        #expect(result?["ok"] as? Bool == true, "oracle: \(result?["why"] ?? "?")")
    }
}
