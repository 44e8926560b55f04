// Goal: the transaction, script, header, proof and address parsers never crash on hostile input and only ever
// throw BitcoinError; a parsed transaction re-serializes to exactly its input (no silent normalisation).
// Method: seeded mutation fuzzing (bit flips, byte sets, inserts, deletes, truncation, chunk duplication) of real
// seeds: block 830000 transactions, BIP143 transactions, gateway scripts, gettxoutproof files, headers, addresses.
// The normal run does 4,000 mutations per parser; `BITCOIN_FUZZ_ITERATIONS=1000000 swift test --filter
// BitcoinTests.FuzzTests` runs that many per parser (SEED=<n> picks the seed; it is printed).
import Bitcoin
import Foundation
import Secp256k1
import SimulationSupport
import Testing
import TestSupport

@Suite(.dedicatedThread) struct FuzzTests {
    static var iterations: Int { Int(ProcessInfo.processInfo.environment["BITCOIN_FUZZ_ITERATIONS"] ?? "") ?? 4_000 }
    static var seed: UInt64 { UInt64(ProcessInfo.processInfo.environment["SEED"] ?? "") ?? 0xB17C_0111 }

    static func mutate(_ input: [UInt8], _ rng: inout DeterministicRNG) -> [UInt8] {
        var b = input
        let rounds = 1 + Int(rng.next() % 4)
        for _ in 0..<rounds {
            let position = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
            switch rng.next() % 7 {
            case 0 where !b.isEmpty: b[position] ^= UInt8(1) << UInt8(rng.next() % 8)
            case 1 where !b.isEmpty: b[position] = UInt8(truncatingIfNeeded: rng.next())
            case 2: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
            case 3 where !b.isEmpty: b.remove(at: position)
            case 4: b = Array(b.prefix(position))
            case 5 where b.count > 1:
                let length = min(b.count - position, 1 + Int(rng.next() % 16))
                b.insert(contentsOf: b[position..<position + length], at: position)
            default:
                // Interesting values for length fields.
                let specials: [UInt8] = [0x00, 0x01, 0x4C, 0x4D, 0x4E, 0xFC, 0xFD, 0xFE, 0xFF]
                if !b.isEmpty { b[position] = specials[Int(rng.next() % UInt64(specials.count))] }
            }
        }
        return b
    }

    /// Runs `body` on `iterations` mutants of the seeds; any thrown error must be a BitcoinError.
    static func fuzz(_ name: String, seeds: [[UInt8]], salt: UInt64, _ body: ([UInt8]) throws -> Void) -> (accepted: Int, rejected: Int) {
        var rng = DeterministicRNG(seed: seed ^ salt)
        var accepted = 0, rejected = 0
        for i in 0..<iterations {
            let input = mutate(seeds[i % seeds.count], &rng)
            do {
                try body(input)
                accepted += 1
            } catch is BitcoinError {
                rejected += 1
            } catch {
                Issue.record("\(name): non-BitcoinError \(error) for \(Hex.encode(input))")
            }
        }
        print("fuzz \(name): SEED=\(seed) iterations=\(iterations) accepted=\(accepted) rejected=\(rejected)")
        return (accepted, rejected)
    }

    static func blockTransactions() throws -> [[UInt8]] {
        let block = try Block(parsing: TestData.bytes("bitcoin/blocks/block_830000.bin"))
        return stride(from: 0, to: block.transactions.count, by: 37).map { block.transactions[$0].serialized() }
    }

    @Test func transactionParser() throws {
        let r = FuzzTests.fuzz("transaction", seeds: try FuzzTests.blockTransactions(), salt: 1) { bytes in
            let tx = try Transaction(parsing: bytes)
            #expect(tx.serialized() == bytes, "accepted transactions must round-trip byte for byte")
            _ = try SegwitSighasher(tx).sighash(inputIndex: 0, scriptCode: Script(), amount: 0, type: .all)
        }
        #expect(r.rejected > 0 && r.accepted > 0)
    }

    @Test func scriptParsers() throws {
        let recovery = try RecoveryPolicy(threshold: 2, keys: [testKey(10), testKey(11), testKey(12)].map(\.publicKey))
        let seeds = [
            try GatewayScript(gHash: [UInt8](repeating: 7, count: 32), shardKey: testKey(1).publicKey, recovery: recovery).witnessScript.bytes,
            try GatewayScript(gHash: nil, shardKey: testKey(1).publicKey, recovery: recovery).witnessScript.bytes,
            try LegacyGatewayScript(gHash: [UInt8](repeating: 9, count: 32), shardKey: testKey(2).publicKey).redeemScript.bytes,
        ]
        let r = FuzzTests.fuzz("script", seeds: seeds, salt: 2) { bytes in
            let script = Script(bytes)
            _ = try script.elements()
            let gateway = try GatewayScript(parsing: script)
            #expect(gateway.witnessScript.bytes == bytes)
        }
        #expect(r.rejected > 0)
    }

    @Test func proofAndHeaderParsers() throws {
        let files = try TestData.fileNames(in: "bitcoin/spv/txoutproof").filter { $0.hasSuffix(".bin") }
        let seeds = try files.map { try TestData.bytes("bitcoin/spv/txoutproof/\($0)") }
        let r = FuzzTests.fuzz("txoutproof", seeds: seeds, salt: 3) { bytes in
            _ = try PartialMerkleTree(parsing: bytes).extractMatches()
        }
        #expect(r.rejected > 0)
        let headers = Array(try TestData.bytes("bitcoin/headers/mainnet_822528-830592.bin")[0..<(80 * 16)])
        let checkpoint = ChainCheckpoint(header: try BlockHeader(parsing: Array(headers[0..<80])), height: 822528, periodStartTime: 0)
        let h = FuzzTests.fuzz("headers", seeds: [Array(headers[80...])], salt: 4) { bytes in
            var chain = HeaderChainVerifier(parameters: .mainnet, checkpoint: checkpoint)
            try chain.append(contentsOf: BlockHeader.parseConcatenated(bytes))
        }
        #expect(h.rejected > 0)
        let siblings = Merkle.path([[UInt8]](repeating: [UInt8](repeating: 1, count: 32), count: 5).enumerated().map { [UInt8($0.offset)] + $0.element.dropFirst() }, index: 3)
        let proofSeed = siblings.flatMap { $0 }
        _ = FuzzTests.fuzz("merkle proof", seeds: [proofSeed], salt: 5) { bytes in
            let hashes = stride(from: 0, to: bytes.count - bytes.count % 32, by: 32).map { Array(bytes[$0..<$0 + 32]) }
            let proof = try MerkleProof(leaf: [UInt8](repeating: 3, count: 32), index: UInt32(bytes.count % 7), siblings: hashes)
            try proof.verify(root: [UInt8](repeating: 0, count: 32), transactionCount: 5)
        }
    }

    @Test func addressParser() {
        let seeds = ["bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
                     "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"].map { Array($0.utf8) }
        let r = FuzzTests.fuzz("address", seeds: seeds, salt: 6) { bytes in
            _ = try Destination(address: String(decoding: bytes, as: UTF8.self), network: .mainnet)
        }
        #expect(r.rejected > 0)
    }
}
