// Goal: transactions serialize and parse exactly as Core does, and sighashes match BIP143's worked examples and
// Core's 500 legacy sighash.json vectors. Method: the vectors in Tests/Fixtures/bitcoin/{bip143,blocks,spv}.
import Bitcoin
import Foundation
import Secp256k1
import Testing
import TestSupport

@Suite(.dedicatedThread) struct TransactionTests {
    @Test func bip143Examples() throws {
        let root = try jsonObject("bitcoin/bip143/bip143_examples.json", as: [String: Any].self)
        var checked = 0
        for c in root["cases"] as! [[String: Any]] {
            let unsigned = hex(c["unsigned_tx"] as! String)
            let tx = try Transaction(parsing: unsigned)
            #expect(tx.serialized() == unsigned)
            let hasher = SegwitSighasher(tx)
            for s in c["bip143_signatures"] as! [[String: Any]] {
                let index = s["input_index"] as! Int
                let type = SighashType(rawValue: UInt32(s["sighash_type"] as! Int))
                let code = Script(hex(s["script_code"] as! String))
                let amount = UInt64(s["amount_sat"] as! Int)
                let preimage = try hasher.preimage(inputIndex: index, scriptCode: code, amount: amount, type: type)
                #expect(Hex.encode(preimage) == s["preimage"] as! String, "\(c["name"]!)")
                let digest = try hasher.sighash(inputIndex: index, scriptCode: code, amount: amount, type: type)
                #expect(Hex.encode(digest) == s["sighash"] as! String)
                let sig = hex(s["signature"] as! String)
                #expect(UInt32(sig.last!) == type.rawValue)
                let key = try PublicKey(encoded: hex(s["public_key"] as! String))
                #expect(key.isValidSignature(try ECDSASignature(der: sig.dropLast()).normalized, for: digest))
                checked += 1
            }
            let signed = hex(c["signed_tx"] as! String)
            let parsed = try Transaction(parsing: signed)
            #expect(parsed.serialized() == signed)
            // Signing fills scriptSigs and witnesses only: same prevouts, sequences, outputs and locktime.
            #expect(parsed.inputs.map(\.previousOutput) == tx.inputs.map(\.previousOutput))
            #expect(parsed.inputs.map(\.sequence) == tx.inputs.map(\.sequence))
            #expect(parsed.outputs == tx.outputs && parsed.lockTime == tx.lockTime)
        }
        #expect(checked == 14)
    }

    @Test func coreLegacySighashVectors() throws {
        let rows = try jsonObject("bitcoin/bip143/core_sighash.json", as: [[Any]].self)
        var checked = 0
        for row in rows where row.count == 5 {
            let tx = try Transaction(parsing: hex(row[0] as! String))
            let script = Script(hex(row[1] as! String))
            let index = row[2] as! Int
            let type = SighashType(rawValue: UInt32(bitPattern: Int32(row[3] as! Int)))
            let digest = try LegacySighash.sighash(transaction: tx, inputIndex: index, scriptCode: script, type: type)
            #expect(Hex.encode(digest.reversed()) == row[4] as! String, "row \(checked)")
            checked += 1
        }
        #expect(checked == 500)
    }

    @Test func block830000() throws {
        let block = try Block(parsing: TestData.bytes("bitcoin/blocks/block_830000.bin"))
        let index = try jsonObject("bitcoin/blocks/blocks_index.json", as: [String: Any].self)
        let facts = (index["blocks"] as! [[String: Any]])[0]
        #expect(block.transactions.count == 1851)
        #expect(block.header.displayHash == facts["hash"] as! String)
        #expect(block.computedMerkleRoot == block.header.merkleRoot)
        #expect(Hex.encode(block.witnessMerkleRoot.reversed()) == facts["witness_merkle_root"] as! String)
        #expect(block.transactions.filter(\.hasWitness).count == 1722)
        #expect(block.transactions.reduce(0) { $0 + $1.baseSize } + 80 + 3 == facts["stripped_size"] as! Int)
        #expect(block.transactions.reduce(0) { $0 + $1.weight } + 4 * 83 == facts["weight"] as! Int)
        for t in facts["selected_transactions"] as! [[String: Any]] {
            let tx = block.transactions[t["index"] as! Int]
            #expect(tx.displayTxid == t["txid"] as! String)
            if (t["index"] as! Int) != 0 { #expect(Hex.encode(tx.wtxid.reversed()) == t["wtxid"] as! String) }
            #expect(tx.totalSize == t["size"] as! Int)
        }
        // Every transaction re-serializes to its own bytes (checked through the recomputed merkle roots above)
        // and round-trips through the parser.
        for tx in block.transactions.prefix(200) { #expect(try Transaction(parsing: tx.serialized()) == tx) }
    }

    @Test func bip54SixtyFourByteTransactions() throws {
        let cases = try jsonObject("bitcoin/spv/bip54_txsize.json", as: [[String: Any]].self)
        for c in cases {
            let tx = try Transaction(parsing: hex(c["tx"] as! String))
            #expect((tx.baseSize == 64) == !(c["valid"] as! Bool), "\(c["comment"] ?? "")")
        }
        #expect(cases.count == 13)
    }

    @Test func parserRejectsMalformedTransactions() throws {
        let tx = hex("0200000001827da3d85a6547d6b03662d2cb86982d655a6f390547285a3bf9ec9f28e0c8831500000000ffffffff0100000000000000000300515200000000")
        #expect(throws: BitcoinError.trailingBytes(count: 1)) { try Transaction(parsing: tx + [0]) }
        #expect(throws: BitcoinError.self) { try Transaction(parsing: Array(tx.dropLast())) }
        // Segwit flag 2 is reserved.
        var flagged = Array(tx[0..<4]) + [0x00, 0x02] + Array(tx[4...])
        #expect(throws: BitcoinError.self) { try Transaction(parsing: flagged) }
        // Witness flag with an empty witness is superfluous.
        flagged = Array(tx[0..<4]) + [0x00, 0x01] + Array(tx[4..<(tx.count - 4)]) + [0x00] + Array(tx.suffix(4))
        #expect(throws: BitcoinError.superfluousWitness) { try Transaction(parsing: flagged) }
        // A non-canonical CompactSize for the input count.
        let nonCanonical = Array(tx[0..<4]) + [0xFD, 0x01, 0x00] + Array(tx[5...])
        #expect(throws: BitcoinError.nonCanonicalCompactSize(offset: 4)) { try Transaction(parsing: nonCanonical) }
        // A huge input count is rejected before allocation.
        let huge = Array(tx[0..<4]) + [0xFE, 0xFF, 0xFF, 0xFF, 0x7F] + Array(tx[5...])
        #expect(throws: BitcoinError.self) { try Transaction(parsing: huge) }
        #expect(throws: BitcoinError.self) { try SighashType(validating: 0x04) }
        #expect(throws: BitcoinError.inputIndexOutOfRange(index: 3, count: 1)) {
            try SegwitSighasher(Transaction(parsing: tx)).sighash(inputIndex: 3, scriptCode: Script(), amount: 0, type: .all)
        }
    }
}
