// Goal: header chains, retargets, merkle proofs and deposit proofs verify exactly as Bitcoin Core judges them on
// real mainnet data, and tampered inputs fail with typed errors. Method: the real headers, block 830000, Core's
// gettxoutproof files and Summa's cross-language vectors in Tests/Fixtures/bitcoin.
import Bitcoin
import Foundation
import Secp256k1
import Testing
import TestSupport

@Suite(.dedicatedThread) struct SPVTests {
    func headers(_ file: String) throws -> [BlockHeader] {
        try BlockHeader.parseConcatenated(TestData.bytes("bitcoin/headers/\(file)"))
    }

    func indexFile(_ name: String) throws -> [String: Any] {
        let index = try jsonObject("bitcoin/headers/headers_index.json", as: [String: Any].self)
        return (index["files"] as! [[String: Any]]).first { $0["file"] as! String == name }!
    }

    @Test func genesisToHeight8999() throws {
        let all = try headers("mainnet_000000-008999.bin")
        #expect(all[0].displayHash == ChainParameters.mainnet.genesisHash)
        var chain = HeaderChainVerifier(parameters: .mainnet, checkpoint: .genesis(all[0], parameters: .mainnet))
        try chain.append(contentsOf: Array(all.dropFirst()))
        #expect(chain.tipHeight == 8999)
        #expect(Hex.encode(chain.tipHash.reversed()) == "0000000098d356d3127dc1a9984018c08692c89121d340910be45497691b2a63")
        // Every block at difficulty 1: work 0x100010001 each.
        #expect(chain.chainWork == UInt256(0x1_0001_0001).multipliedReportingOverflow(by: 9000).value)
    }

    @Test func fourRetargetsFrom822528() throws {
        let all = try headers("mainnet_822528-830592.bin")
        let info = try indexFile("mainnet_822528-830592.bin")
        let first = UInt256(hex: info["chainwork_at_first"] as! String)!
        #expect(all.count == 8065)
        let checkpoint = ChainCheckpoint(header: all[0], height: 822528, periodStartTime: all[0].time, chainWork: first)
        var chain = HeaderChainVerifier(parameters: .mainnet, checkpoint: checkpoint)
        try chain.append(contentsOf: Array(all.dropFirst()))
        #expect(chain.tipHeight == 830592)
        #expect(Hex.encode(chain.tipHash.reversed()) == "00000000000000000000506183a8b30fa3224b85e82a70416e1d594bdb632fdb")
        #expect(chain.tipBits == 0x1703_71B1)
        #expect(chain.chainWork == UInt256(hex: info["chainwork_at_last"] as! String)!)
        // The header at 830000 is block 830000's.
        let block = try TestData.bytes("bitcoin/blocks/block_830000.bin")
        #expect(all[830000 - 822528].serialized == Array(block[0..<80]))
    }

    @Test func tamperedHeadersAreRejected() throws {
        let all = Array(try headers("mainnet_822528-830592.bin")[0..<2020])
        let checkpoint = ChainCheckpoint(header: all[0], height: 822528, periodStartTime: all[0].time)
        var badNonce = all
        badNonce[5].nonce &+= 1
        var chain = HeaderChainVerifier(parameters: .mainnet, checkpoint: checkpoint)
        #expect(throws: BitcoinError.self) { try chain.append(contentsOf: Array(badNonce.dropFirst())) }
        #expect(chain.tipHeight == 822528 + 4)  // left at the last good header
        chain = HeaderChainVerifier(parameters: .mainnet, checkpoint: checkpoint)
        #expect(throws: BitcoinError.brokenChain(height: 822530)) { try chain.append(contentsOf: [all[1], all[3]]) }
        // A header with easier bits than required fails the difficulty rule even if it met its own target.
        let regtestLike = ChainCheckpoint(header: all[0], height: 822528, periodStartTime: all[0].time)
        chain = HeaderChainVerifier(parameters: .mainnet, checkpoint: regtestLike)
        var easier = all[1]
        easier.bits = 0x1800_FFFF
        #expect(throws: BitcoinError.self) { try chain.append(easier) }
        // Negative, overflowing and zero targets.
        #expect(!ChainParameters.mainnet.checkProofOfWork(hash: [UInt8](repeating: 0, count: 32), bits: 0x1D80_FFFF))
        #expect(!ChainParameters.mainnet.checkProofOfWork(hash: [UInt8](repeating: 0, count: 32), bits: 0xFF00_FFFF))
        #expect(!ChainParameters.mainnet.checkProofOfWork(hash: [UInt8](repeating: 0, count: 32), bits: 0x1D00_0000))
        #expect(!ChainParameters.mainnet.checkProofOfWork(hash: [UInt8](repeating: 0, count: 32), bits: 0x1E00_FFFF))
    }

    @Test func staleBlockIsAValidSibling() throws {
        let stale = try headers("mainnet_stale_823226.bin")[0]
        let main = try headers("mainnet_822528-830592.bin")
        let parentIndex = 823225 - 822528
        #expect(stale.displayHash == "0000000000000000000365e705dbbea406f6e383f510d400fa23e40eae71e056")
        #expect(stale.previousBlockHash == main[parentIndex].hash)
        #expect(ChainParameters.mainnet.checkProofOfWork(hash: stale.hash, bits: stale.bits))
        #expect(stale.hash != main[parentIndex + 1].hash)
    }

    @Test func all413HistoricalRetargets() throws {
        let boundary = try headers("mainnet_retarget_boundaries_0-832608.bin")
        let meta = try jsonObject("bitcoin/headers/mainnet_retarget_boundaries_0-832608.json", as: [String: Any].self)
        let works = (meta["headers"] as! [[String: Any]]).map { UInt256(hex: $0["chainwork"] as! String)! }
        #expect(boundary.count == 827)
        var changed = 0
        for k in 1...413 {
            let periodStart = boundary[2 * k - 2], last = boundary[2 * k - 1], next = boundary[2 * k]
            #expect(ChainParameters.mainnet.checkProofOfWork(hash: last.hash, bits: last.bits))
            #expect(ChainParameters.mainnet.checkProofOfWork(hash: next.hash, bits: next.bits))
            #expect(next.previousBlockHash == last.hash)
            let expected = ChainParameters.mainnet.retargetedBits(lastBits: last.bits, firstTime: periodStart.time, lastTime: last.time)
            #expect(expected == next.bits, "retarget at \(2016 * k)")
            if next.bits != last.bits { changed += 1 }
            let w = UInt256.work(target: UInt256.decodeCompact(last.bits).target)
            #expect(works[2 * k - 1] == works[2 * k - 2] &+ w.multipliedReportingOverflow(by: 2015).value)
            #expect(works[2 * k] == works[2 * k - 1] &+ UInt256.work(target: UInt256.decodeCompact(next.bits).target))
        }
        #expect(changed == 398)
        #expect(works.last! == UInt256(hex: "6cba5548513889a0030bd7b4")!)
    }

    @Test func testnetMinimumDifficultyRule() throws {
        // Regtest-style PoW is not needed: the rule is about which nBits is *expected*.
        let all = try headers("mainnet_822528-830592.bin")
        var h = all[5]
        h.bits = 0x1A00_FFFF
        let checkpoint = ChainCheckpoint(header: h, height: 100, periodStartTime: h.time)
        let chain = HeaderChainVerifier(parameters: .testnet, checkpoint: checkpoint)
        #expect(chain.expectedBits(forTime: h.time + 1200) == 0x1A00_FFFF)
        #expect(chain.expectedBits(forTime: h.time + 1201) == 0x1D00_FFFF)
        let after = ChainCheckpoint(header: { var m = h; m.bits = 0x1D00_FFFF; return m }(), height: 101, periodStartTime: h.time, lastNormalBits: 0x1A00_FFFF)
        #expect(HeaderChainVerifier(parameters: .testnet, checkpoint: after).expectedBits(forTime: h.time + 60) == 0x1A00_FFFF)
        #expect(HeaderChainVerifier(parameters: .regtest, checkpoint: ChainCheckpoint(header: h, height: 2015, periodStartTime: 0)).expectedBits(forTime: h.time) == h.bits)
    }

    @Test func summaVectors() throws {
        let v = try jsonObject("bitcoin/spv/summa_bitcoin-spv_testVectors.json", as: [String: Any].self)
        func bytes(_ s: Any?) -> [UInt8] { hex(s as! String) }
        // summa's verifyHash256Merkle(proof, index): proof = leaf ‖ siblings… ‖ root. Every vector goes through
        // MerkleProof (a trailing partial chunk is passed on as it is, so the code sees the malformed input); a vector
        // summa accepts must be accepted without an error, and one it refuses must throw or miss the root.
        func chunks(_ b: [UInt8]) -> [[UInt8]] { stride(from: 0, to: b.count, by: 32).map { Array(b[$0..<min($0 + 32, b.count)]) } }
        for (i, c) in (v["verifyHash256Merkle"] as! [[String: Any]]).enumerated() {
            let input = c["input"] as! [String: Any]
            let parts = chunks(bytes(input["proof"]))
            let index = UInt32(input["index"] as! Int)
            let leaf = parts.first ?? [], root = parts.last ?? []
            let siblings = parts.count > 2 ? Array(parts[1..<(parts.count - 1)]) : []
            if c["output"] as! Bool {
                #expect(try MerkleProof(leaf: leaf, index: index, siblings: siblings).root == root, "verifyHash256Merkle[\(i)]")
            } else {
                do {
                    #expect(try MerkleProof(leaf: leaf, index: index, siblings: siblings).root != root, "verifyHash256Merkle[\(i)]")
                } catch {}  // refused with a typed BitcoinError
            }
        }
        for (i, c) in (v["prove"] as! [[String: Any]]).enumerated() {
            let input = c["input"] as! [String: Any]
            let siblings = chunks(bytes(input["proof"]))
            let leaf = bytes(input["txIdLE"]), root = bytes(input["merkleRootLE"]), index = UInt32(input["index"] as! Int)
            if c["output"] as! Bool {
                #expect(try MerkleProof(leaf: leaf, index: index, siblings: siblings).root == root, "prove[\(i)]")
            } else {
                do {
                    #expect(try MerkleProof(leaf: leaf, index: index, siblings: siblings).root != root, "prove[\(i)]")
                } catch {}  // refused with a typed BitcoinError
            }
        }
        let chain = v["validateHeaderChain"] as! [[String: Any]]
        let hs = try BlockHeader.parseConcatenated(bytes(chain[0]["input"]))
        let diff1 = UInt256.decodeCompact(0x1D00_FFFF).target
        var total = UInt256.zero
        for (i, h) in hs.enumerated() {
            #expect(ChainParameters.mainnet.checkProofOfWork(hash: h.hash, bits: h.bits))
            if i > 0 { #expect(h.previousBlockHash == hs[i - 1].hash) }
            total = total &+ diff1.divided(by: UInt256.decodeCompact(h.bits).target)
        }
        #expect(total == UInt256(UInt64(chain[0]["output"] as! Int)))
        var retargets = 0
        for c in v["retargetAlgorithm"] as! [[String: Any]] {
            let h = c["input"] as! [[String: Any]]
            let bits = h.map { UInt32(bytes($0["nbits"]).reversed().reduce(0) { $0 << 8 | UInt32($1) }) }
            let times = h.map { UInt32($0["timestamp"] as! Int) }
            #expect(ChainParameters.mainnet.retargetedBits(lastBits: bits[1], firstTime: times[0], lastTime: times[1]) == bits[2])
            retargets += 1
        }
        #expect(retargets == 9)
    }

    @Test func txoutproofFiles() throws {
        let index = try jsonObject("bitcoin/spv/txoutproof/txoutproofs_index.json", as: [String: Any].self)
        var checked = 0
        for p in index["proofs"] as! [[String: Any]] {
            let bytes = try TestData.bytes("bitcoin/spv/txoutproof/\(p["file"] as! String)")
            let tree = try PartialMerkleTree(parsing: bytes)
            #expect(tree.header.displayHash == p["block_hash"] as! String)
            #expect(tree.transactionCount == p["total_transactions"] as! Int)
            let matches = try tree.extractMatches()
            let expected = (p["matched"] as! [[String: Any]]).map { ($0["index"] as! Int, $0["txid"] as! String) }
            #expect(matches.map(\.index) == expected.map(\.0))
            #expect(matches.map { Hex.encode($0.txid.reversed()) } == expected.map(\.1))
            // Tampering: a flipped hash byte, a trailing byte, a truncated proof.
            var flipped = bytes
            flipped[90] ^= 1
            #expect(throws: BitcoinError.self) { try PartialMerkleTree(parsing: flipped).extractMatches() }
            #expect(throws: BitcoinError.self) { try PartialMerkleTree(parsing: bytes + [0]) }
            #expect(throws: BitcoinError.self) { try PartialMerkleTree(parsing: Array(bytes.dropLast())).extractMatches() }
            checked += 1
        }
        #expect(checked == 11)
    }

    @Test func blockMerkleProofsAndTheSixtyFourByteAmbiguity() throws {
        let block = try Block(parsing: TestData.bytes("bitcoin/blocks/block_830000.bin"))
        let txids = block.transactions.map(\.txid)
        for i in [0, 1, 10, 100, 1000, 1849, 1850] {
            let proof = try MerkleProof(leaf: txids[i], index: UInt32(i), siblings: Merkle.path(txids, index: i))
            try proof.verify(root: block.header.merkleRoot, transactionCount: txids.count)
            let wrongIndex = try MerkleProof(leaf: txids[i], index: UInt32(i ^ 2), siblings: proof.siblings)
            #expect(throws: BitcoinError.self) { try wrongIndex.verify(root: block.header.merkleRoot, transactionCount: txids.count) }
        }
        // The attack: the 64 bytes txid₀ ‖ txid₁ hash to the level-1 node, so a "transaction" with those bytes has a
        // valid-looking path one level shorter. The depth rule rejects it.
        let inner = Merkle.parent(txids[0], txids[1])
        let shortPath = Array(Merkle.path(txids, index: 0).dropFirst())
        let forged = try MerkleProof(leaf: inner, index: 0, siblings: shortPath)
        #expect(forged.root == block.header.merkleRoot)
        #expect(throws: BitcoinError.self) { try forged.verify(root: block.header.merkleRoot, transactionCount: txids.count) }
        #expect(throws: BitcoinError.self) { try MerkleProof(leaf: txids[0], index: 1 << 20, siblings: shortPath) }
    }

    @Test func mainnetDepositProofWithoutANode() throws {
        // Block 830000's transaction 1000, proven by its merkle path and the 8064 headers after checkpoint 822528.
        let block = try Block(parsing: TestData.bytes("bitcoin/blocks/block_830000.bin"))
        let all = try headers("mainnet_822528-830592.bin")
        let txids = block.transactions.map(\.txid)
        let tx = block.transactions[1000]
        let checkpoint = ChainCheckpoint(header: all[0], height: 822528, periodStartTime: all[0].time)
        let proof = DepositProof(transaction: tx.serialized(), outputIndex: 0, transactionIndex: 1000, siblings: Merkle.path(txids, index: 1000),
                                 transactionCount: txids.count, headers: Array(all.dropFirst()), blockIndex: 830000 - 822528 - 1)
        let verified = try proof.verify(parameters: .mainnet, checkpoint: checkpoint, expectedScript: tx.outputs[0].scriptPubKey,
                                        minimumConfirmations: 6, minimumWork: .zero)
        #expect(verified.blockHeight == 830000 && verified.confirmations == 593 && verified.tipHeight == 830592)
        #expect(Hex.encode(verified.txid.reversed()) == "804a78b019b410d23adbc8ec5410fee55ef2de7e47fc1e5a1a1be46e94278787")
        // Depth by work: 593 blocks at ~2^78 work each; asking for more than exists fails.
        let perBlock = UInt256.work(target: UInt256.decodeCompact(0x1703_BA5D).target)
        _ = try proof.verify(parameters: .mainnet, checkpoint: checkpoint, expectedScript: tx.outputs[0].scriptPubKey,
                             minimumConfirmations: 6, minimumWork: perBlock.multipliedReportingOverflow(by: 590).value)
        #expect(throws: BitcoinError.self) {
            try proof.verify(parameters: .mainnet, checkpoint: checkpoint, expectedScript: tx.outputs[0].scriptPubKey,
                             minimumConfirmations: 6, minimumWork: perBlock.multipliedReportingOverflow(by: 600).value)
        }
        // A wrong output script, a wrong block, a shortened header chain.
        #expect(throws: BitcoinError.self) {
            try proof.verify(parameters: .mainnet, checkpoint: checkpoint, expectedScript: Script([0x51]), minimumConfirmations: 1)
        }
        let wrongBlock = DepositProof(transaction: tx.serialized(), outputIndex: 0, transactionIndex: 1000, siblings: Merkle.path(txids, index: 1000),
                                      transactionCount: txids.count, headers: Array(all.dropFirst()), blockIndex: 830000 - 822528)
        #expect(throws: BitcoinError.merkleRootMismatch) {
            try wrongBlock.verify(parameters: .mainnet, checkpoint: checkpoint, expectedScript: tx.outputs[0].scriptPubKey, minimumConfirmations: 1)
        }
        var gapped = Array(all.dropFirst())
        gapped.remove(at: 100)
        let broken = DepositProof(transaction: tx.serialized(), outputIndex: 0, transactionIndex: 1000, siblings: Merkle.path(txids, index: 1000),
                                  transactionCount: txids.count, headers: gapped, blockIndex: 830000 - 822528 - 2)
        #expect(throws: BitcoinError.brokenChain(height: 822528 + 101)) {
            try broken.verify(parameters: .mainnet, checkpoint: checkpoint, expectedScript: tx.outputs[0].scriptPubKey, minimumConfirmations: 1)
        }
    }

    @Test func sixtyFourByteTransactionIsRefusedAsDeposit() throws {
        // BIP54's 64-byte transaction, committed alone (count 1, so its txid is the root) in a synthetic header.
        let bytes = hex("0200000001827da3d85a6547d6b03662d2cb86982d655a6f390547285a3bf9ec9f28e0c8831500000000ffffffff010000000000000000040051525400000000")
        let tx = try Transaction(parsing: bytes)
        #expect(tx.baseSize == 64)
        let header = BlockHeader(version: 4, previousBlockHash: [UInt8](repeating: 0, count: 32), merkleRoot: tx.txid, time: 1, bits: 0x207F_FFFF, nonce: 0)
        let proof = DepositProof(transaction: bytes, outputIndex: 0, transactionIndex: 0, siblings: [], transactionCount: 1, headers: [header], blockIndex: 0)
        let anchor = ChainCheckpoint(header: header, height: 0, periodStartTime: 0)
        #expect(throws: BitcoinError.sixtyFourByteTransaction) {
            try proof.verify(parameters: .regtest, checkpoint: anchor, expectedScript: tx.outputs[0].scriptPubKey, minimumConfirmations: 1)
        }
    }
}
