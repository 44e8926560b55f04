/// A signature hash type: the byte appended to every ECDSA signature, saying which parts of the transaction the
/// signature commits to.
public struct SighashType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let all = SighashType(rawValue: 0x01)
    public static let none = SighashType(rawValue: 0x02)
    public static let single = SighashType(rawValue: 0x03)
    public static let anyoneCanPayFlag: UInt32 = 0x80
    public static let allAnyoneCanPay = SighashType(rawValue: 0x81)
    public static let noneAnyoneCanPay = SighashType(rawValue: 0x82)
    public static let singleAnyoneCanPay = SighashType(rawValue: 0x83)
    /// The six types standard policy accepts (Core's IsDefinedHashtypeSignature).
    public static let defined: [SighashType] = [.all, .none, .single, .allAnyoneCanPay, .noneAnyoneCanPay, .singleAnyoneCanPay]

    /// Accepts only the six defined types; consensus tolerates others but nothing we sign should use them.
    public init(validating raw: UInt32) throws(BitcoinError) {
        guard SighashType.defined.contains(SighashType(rawValue: raw)) else { throw .invalidSighashType(raw) }
        self.rawValue = raw
    }

    /// ALL / NONE / SINGLE as the interpreter reads them (low five bits).
    var base: UInt32 { rawValue & 0x1F }
    var anyoneCanPay: Bool { rawValue & SighashType.anyoneCanPayFlag != 0 }
    var isNone: Bool { base == SighashType.none.rawValue }
    var isSingle: Bool { base == SighashType.single.rawValue }
}

/// BIP143 signature hashes for segwit v0 inputs. The three shared midstate hashes are computed once per
/// transaction, which is what makes hashing O(n) for n inputs instead of the legacy O(n²).
public struct SegwitSighasher: Sendable {
    public let transaction: Transaction
    let hashPrevouts: [UInt8]
    let hashSequence: [UInt8]
    let hashOutputs: [UInt8]
    let outputBytes: [[UInt8]]

    public init(_ transaction: Transaction) {
        self.transaction = transaction
        var prevouts = ByteWriter(capacity: transaction.inputs.count * 36)
        var sequences = ByteWriter(capacity: transaction.inputs.count * 4)
        for input in transaction.inputs {
            prevouts.write(input.previousOutput.txid)
            prevouts.writeUInt32(input.previousOutput.index)
            sequences.writeUInt32(input.sequence)
        }
        outputBytes = transaction.outputs.map { o in
            var w = ByteWriter(capacity: 9 + o.scriptPubKey.bytes.count)
            w.writeUInt64(o.value)
            w.writeVarBytes(o.scriptPubKey.bytes)
            return w.bytes
        }
        hashPrevouts = BitcoinHashes.sha256d(prevouts.bytes)
        hashSequence = BitcoinHashes.sha256d(sequences.bytes)
        hashOutputs = BitcoinHashes.sha256d(outputBytes.flatMap { $0 })
    }

    /// The BIP143 preimage for input `index` spending `amount` satoshi under `scriptCode` (for P2WSH, the witness
    /// script from after its last executed OP_CODESEPARATOR; for P2WPKH, the implied P2PKH script).
    public func preimage(inputIndex index: Int, scriptCode: Script, amount: UInt64, type: SighashType) throws(BitcoinError) -> [UInt8] {
        let tx = transaction
        guard tx.inputs.indices.contains(index) else { throw .inputIndexOutOfRange(index: index, count: tx.inputs.count) }
        let zero = [UInt8](repeating: 0, count: 32)
        let input = tx.inputs[index]
        var w = ByteWriter(capacity: 160 + scriptCode.bytes.count)
        w.writeUInt32(UInt32(bitPattern: tx.version))
        w.write(type.anyoneCanPay ? zero : hashPrevouts)
        w.write(type.anyoneCanPay || type.isSingle || type.isNone ? zero : hashSequence)
        w.write(input.previousOutput.txid)
        w.writeUInt32(input.previousOutput.index)
        w.writeVarBytes(scriptCode.bytes)
        w.writeUInt64(amount)
        w.writeUInt32(input.sequence)
        if !type.isSingle && !type.isNone {
            w.write(hashOutputs)
        } else if type.isSingle && index < tx.outputs.count {
            w.write(BitcoinHashes.sha256d(outputBytes[index]))
        } else {
            w.write(zero)
        }
        w.writeUInt32(tx.lockTime)
        w.writeUInt32(type.rawValue)
        return w.bytes
    }

    /// dSHA256 of the preimage: the 32 bytes that are signed.
    public func sighash(inputIndex index: Int, scriptCode: Script, amount: UInt64, type: SighashType) throws(BitcoinError) -> [UInt8] {
        BitcoinHashes.sha256d(try preimage(inputIndex: index, scriptCode: scriptCode, amount: amount, type: type))
    }
}

/// The original (pre-segwit) signature hash, as Core's SignatureHash computes it for SigVersion::BASE, including
/// its quirks: OP_CODESEPARATORs are removed from the script code, and SIGHASH_SINGLE with no matching output
/// returns the number one instead of failing.
public enum LegacySighash {
    public static func sighash(transaction tx: Transaction, inputIndex index: Int, scriptCode: Script, type: SighashType) throws(BitcoinError) -> [UInt8] {
        guard tx.inputs.indices.contains(index) else { throw .inputIndexOutOfRange(index: index, count: tx.inputs.count) }
        if type.isSingle && index >= tx.outputs.count {
            return [1] + [UInt8](repeating: 0, count: 31)
        }
        let code = scriptCode.legacySighashScriptCode()
        var w = ByteWriter(capacity: 64 + tx.inputs.count * 41 + tx.outputs.count * 34 + code.bytes.count)
        w.writeUInt32(UInt32(bitPattern: tx.version))
        let signedInputs = type.anyoneCanPay ? [index] : Array(tx.inputs.indices)
        w.writeCompactSize(UInt64(signedInputs.count))
        for i in signedInputs {
            let input = tx.inputs[i]
            w.write(input.previousOutput.txid)
            w.writeUInt32(input.previousOutput.index)
            if i == index {
                w.writeCompactSize(UInt64(code.declaredLength))
                w.write(code.bytes)
            } else {
                w.writeCompactSize(0)
            }
            w.writeUInt32(i != index && (type.isSingle || type.isNone) ? 0 : input.sequence)
        }
        let outputCount = type.isNone ? 0 : type.isSingle ? index + 1 : tx.outputs.count
        w.writeCompactSize(UInt64(outputCount))
        for i in 0..<outputCount {
            if type.isSingle && i != index {
                w.writeUInt64(UInt64.max)  // CTxOut's null state: value −1, empty script
                w.writeCompactSize(0)
            } else {
                w.writeUInt64(tx.outputs[i].value)
                w.writeVarBytes(tx.outputs[i].scriptPubKey.bytes)
            }
        }
        w.writeUInt32(tx.lockTime)
        w.writeUInt32(type.rawValue)
        return BitcoinHashes.sha256d(w.bytes)
    }
}
