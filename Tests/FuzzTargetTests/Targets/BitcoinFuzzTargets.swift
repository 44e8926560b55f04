import Foundation
import Secp256k1

@testable import Bitcoin

/// Bitcoin transactions, scripts, headers, merkle proofs (BIP37 txoutproofs and sibling paths) and addresses, seeded
/// from mainnet block 830,000, its headers and Core's txoutproofs in Tests/Fixtures/bitcoin.
enum BitcoinFuzzTargets {
    static let builders: [FuzzTargetBuilder] = [
        ("bitcoin-transaction", bitcoinTransaction),
        ("bitcoin-script", { _ in try bitcoinScript() }),
        ("bitcoin-headers", bitcoinHeaders),
        ("bitcoin-txoutproof", bitcoinTxoutproof),
        ("bitcoin-merkle-proof", bitcoinMerkleProof),
        ("bitcoin-address", { _ in bitcoinAddress() }),
    ]

    static func block(_ f: FuzzFixtures) throws -> Block { try Block(parsing: f.bytes("bitcoin/blocks/block_830000.bin")) }

    /// An accepted transaction re-serializes to exactly its input (txids are hashes of the bytes).
    static func bitcoinTransaction(_ f: FuzzFixtures) throws -> FuzzTarget {
        let txs = try block(f).transactions
        let seeds = stride(from: 0, to: txs.count, by: 97).map { txs[$0].serialized() }
        return FuzzTarget(name: "bitcoin-transaction", seeds: seeds) { bytes throws(FuzzFinding) in
            guard let tx = try? Transaction(parsing: bytes) else { return }
            guard tx.serialized() == bytes else {
                throw FuzzFinding(target: "bitcoin-transaction", detail: "an accepted transaction does not re-serialize to its bytes")
            }
            if !tx.inputs.isEmpty {
                _ = try? SegwitSighasher(tx).sighash(inputIndex: 0, scriptCode: Script(), amount: 0, type: .all)
            }
        }
    }

    /// Script elements, and the gateway script parser: a parsed gateway script rebuilds to the same bytes.
    static func bitcoinScript() throws -> FuzzTarget {
        func key(_ n: UInt8) throws -> PublicKey { try PrivateKey(bytes: [0x5A] + [UInt8](repeating: n, count: 31)).publicKey }
        let recovery = try RecoveryPolicy(threshold: 2, keys: [key(10), key(11), key(12)])
        let seeds = [
            try GatewayScript(gHash: [UInt8](repeating: 7, count: 32), shardKey: key(1), recovery: recovery).witnessScript.bytes,
            try GatewayScript(gHash: nil, shardKey: key(1), recovery: recovery).witnessScript.bytes,
            try LegacyGatewayScript(gHash: [UInt8](repeating: 9, count: 32), shardKey: key(2)).redeemScript.bytes,
        ]
        return FuzzTarget(name: "bitcoin-script", seeds: seeds) { bytes throws(FuzzFinding) in
            let script = Script(bytes)
            _ = try? script.elements()
            _ = try? script.elements(requireMinimalPushes: true)
            _ = try? Script.decodeNumber(Array(bytes.prefix(6)), maxBytes: 5)
            guard let gateway = try? GatewayScript(parsing: script) else { return }
            guard gateway.witnessScript.bytes == bytes else {
                throw FuzzFinding(target: "bitcoin-script", detail: "a parsed gateway script does not rebuild to its bytes")
            }
        }
    }

    /// Concatenated headers appended to a verifier checkpointed on real mainnet headers.
    static func bitcoinHeaders(_ f: FuzzFixtures) throws -> FuzzTarget {
        let headers = Array(try f.bytes("bitcoin/headers/mainnet_822528-830592.bin")[0..<(80 * 24)])
        let checkpoint = ChainCheckpoint(header: try BlockHeader(parsing: Array(headers[0..<80])), height: 822_528, periodStartTime: 0)
        return FuzzTarget(name: "bitcoin-headers", seeds: [Array(headers[80...]), Array(headers[80..<(80 * 3)])]) { bytes throws(FuzzFinding) in
            guard let parsed = try? BlockHeader.parseConcatenated(bytes) else { return }
            var chain = HeaderChainVerifier(parameters: .mainnet, checkpoint: checkpoint)
            _ = try? chain.append(contentsOf: parsed)
        }
    }

    /// Core's gettxoutproof blobs; a proof whose tree reaches block 830,000's root may only match its real txids.
    static func bitcoinTxoutproof(_ f: FuzzFixtures) throws -> FuzzTarget {
        let seeds = try f.files(in: "bitcoin/spv/txoutproof", suffix: ".bin")
        let block = try block(f)
        let txids = block.transactions.map(\.txid)
        let root = block.header.merkleRoot
        return FuzzTarget(name: "bitcoin-txoutproof", seeds: seeds) { bytes throws(FuzzFinding) in
            guard let tree = try? PartialMerkleTree(parsing: bytes), let matches = try? tree.extractMatches() else { return }
            guard tree.header.merkleRoot == root else { return }
            for match in matches where match.index >= txids.count || txids[match.index] != match.txid || tree.transactionCount != txids.count {
                throw FuzzFinding(target: "bitcoin-txoutproof", detail: "proved txid at position \(match.index) that block 830000 does not hold there")
            }
        }
    }

    /// `leaf [32] ‖ index u32le ‖ siblings [32]…` against block 830,000's merkle root: a proof that verifies names a
    /// transaction the block holds, at its position.
    static func bitcoinMerkleProof(_ f: FuzzFixtures) throws -> FuzzTarget {
        let block = try block(f)
        let txids = block.transactions.map(\.txid)
        let root = block.header.merkleRoot
        let seeds = [0, 1, txids.count / 2, txids.count - 1].map { i in
            txids[i] + withUnsafeBytes(of: UInt32(i).littleEndian, Array.init) + Merkle.path(txids, index: i).flatMap { $0 }
        }
        return FuzzTarget(name: "bitcoin-merkle-proof", seeds: seeds) { bytes throws(FuzzFinding) in
            guard bytes.count >= 36 else { return }
            let leaf = Array(bytes[0..<32])
            let index = UInt32(bytes[32]) | UInt32(bytes[33]) << 8 | UInt32(bytes[34]) << 16 | UInt32(bytes[35]) << 24
            let rest = bytes[36...]
            let siblings = stride(from: rest.startIndex, to: rest.endIndex - rest.count % 32, by: 32).map { Array(rest[$0..<$0 + 32]) }
            guard let proof = try? MerkleProof(leaf: leaf, index: index, siblings: siblings),
                (try? proof.verify(root: root, transactionCount: txids.count)) != nil else { return }
            guard Int(index) < txids.count, txids[Int(index)] == leaf else {
                throw FuzzFinding(target: "bitcoin-merkle-proof", detail: "proved a leaf the block does not hold at index \(index)")
            }
        }
    }

    static func bitcoinAddress() -> FuzzTarget {
        let seeds = ["bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
                     "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
                     "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"].map { Array($0.utf8) }
        return FuzzTarget(name: "bitcoin-address", seeds: seeds) { bytes throws(FuzzFinding) in
            let text = String(decoding: bytes, as: UTF8.self)
            for network in [Bitcoin.Network.mainnet, .regtest] { _ = try? Destination(address: text, network: network) }
        }
    }
}
