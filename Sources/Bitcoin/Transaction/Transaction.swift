import Secp256k1

/// A reference to an output: the funding transaction's txid in internal byte order (the reverse of how explorers
/// print it) and the output index.
public struct OutPoint: Hashable, Sendable {
    public var txid: [UInt8]
    public var index: UInt32

    public init(txid: [UInt8], index: UInt32) {
        precondition(txid.count == 32, "a txid is 32 bytes")
        self.txid = txid
        self.index = index
    }

    /// From the display-order hex that explorers and Core's RPC print.
    public init(displayTxid: String, index: UInt32) throws(BitcoinError) {
        guard let b = Hex.decode(displayTxid), b.count == 32 else { throw .invalidRenVMParameter("txid hex") }
        self.init(txid: b.reversed(), index: index)
    }

    public var displayTxid: String { Hex.encode(txid.reversed()) }
}

public struct TxInput: Hashable, Sendable {
    public var previousOutput: OutPoint
    public var scriptSig: Script
    public var sequence: UInt32
    public var witness: [[UInt8]]

    /// nSequence that disables BIP68 and locktime but signals nothing else (Core's default for final inputs).
    public static let finalSequence: UInt32 = 0xFFFF_FFFF
    /// nSequence that enables nLockTime but no relative lock (BIP68 disable flag set) and opts out of RBF signalling.
    public static let noRelativeLockSequence: UInt32 = 0xFFFF_FFFE

    public init(previousOutput: OutPoint, scriptSig: Script = Script(), sequence: UInt32 = TxInput.noRelativeLockSequence, witness: [[UInt8]] = []) {
        self.previousOutput = previousOutput
        self.scriptSig = scriptSig
        self.sequence = sequence
        self.witness = witness
    }
}

public struct TxOutput: Hashable, Sendable {
    public var value: UInt64
    public var scriptPubKey: Script

    public init(value: UInt64, scriptPubKey: Script) {
        self.value = value
        self.scriptPubKey = scriptPubKey
    }
}

/// A Bitcoin transaction with BIP144 segwit serialization.
public struct Transaction: Hashable, Sendable {
    public var version: Int32
    public var inputs: [TxInput]
    public var outputs: [TxOutput]
    public var lockTime: UInt32

    public init(version: Int32 = 2, inputs: [TxInput] = [], outputs: [TxOutput] = [], lockTime: UInt32 = 0) {
        self.version = version
        self.inputs = inputs
        self.outputs = outputs
        self.lockTime = lockTime
    }

    public var hasWitness: Bool { inputs.contains { !$0.witness.isEmpty } }

    // MARK: Serialization

    /// BIP144 serialization: marker 0x00 and flag 0x01 after the version when any input has a witness.
    public func serialized(includingWitness: Bool = true) -> [UInt8] {
        var w = ByteWriter(capacity: 64 + inputs.count * 180 + outputs.count * 44)
        write(to: &w, includingWitness: includingWitness && hasWitness)
        return w.bytes
    }

    func write(to w: inout ByteWriter, includingWitness: Bool) {
        w.writeUInt32(UInt32(bitPattern: version))
        if includingWitness { w.write([0x00, 0x01]) }
        w.writeCompactSize(UInt64(inputs.count))
        for input in inputs {
            w.write(input.previousOutput.txid)
            w.writeUInt32(input.previousOutput.index)
            w.writeVarBytes(input.scriptSig.bytes)
            w.writeUInt32(input.sequence)
        }
        w.writeCompactSize(UInt64(outputs.count))
        for output in outputs {
            w.writeUInt64(output.value)
            w.writeVarBytes(output.scriptPubKey.bytes)
        }
        if includingWitness {
            for input in inputs {
                w.writeCompactSize(UInt64(input.witness.count))
                for item in input.witness { w.writeVarBytes(item) }
            }
        }
        w.writeUInt32(lockTime)
    }

    /// Parses exactly one transaction, rejecting trailing bytes.
    public init(parsing bytes: [UInt8]) throws(BitcoinError) {
        guard bytes.count <= Limits.transactionBytesMax else {
            throw .oversize(field: "transaction", count: bytes.count, limit: Limits.transactionBytesMax)
        }
        var r = ByteReader(bytes)
        try self.init(reading: &r)
        try r.expectEnd()
    }

    /// Reads one transaction the way Core's UnserializeTransaction does: an empty input vector followed by a
    /// non-zero flag byte means segwit; flag bits other than 1 are rejected; a witness flag with no witness data
    /// is rejected ("Superfluous witness record").
    public init(reading r: inout ByteReader) throws(BitcoinError) {
        version = Int32(bitPattern: try r.readUInt32())
        var flags: UInt8 = 0
        inputs = try Transaction.readInputs(&r)
        outputs = []
        if inputs.isEmpty {
            flags = try r.readUInt8()
            if flags != 0 {
                inputs = try Transaction.readInputs(&r)
                outputs = try Transaction.readOutputs(&r)
            }
        } else {
            outputs = try Transaction.readOutputs(&r)
        }
        if flags & 1 != 0 {
            flags ^= 1
            for i in inputs.indices {
                let n = try r.readCount("witness items", limit: Limits.witnessItemsMax)
                var items = [[UInt8]]()
                items.reserveCapacity(min(n, r.remaining))
                for _ in 0..<n { items.append(try r.readVarBytes("witness item", limit: Limits.witnessItemBytesMax)) }
                inputs[i].witness = items
            }
            guard inputs.contains(where: { !$0.witness.isEmpty }) else { throw .superfluousWitness }
        }
        guard flags == 0 else { throw .unknownSegwitFlag(flags) }
        lockTime = try r.readUInt32()
    }

    static func readInputs(_ r: inout ByteReader) throws(BitcoinError) -> [TxInput] {
        let n = try r.readCount("inputs", limit: Limits.transactionInputsMax)
        guard n * 41 <= r.remaining else { throw .truncated(offset: r.offset, needed: n * 41) }
        var inputs = [TxInput]()
        inputs.reserveCapacity(n)
        for _ in 0..<n {
            let txid = try r.readBytes(32)
            let index = try r.readUInt32()
            let script = try r.readVarBytes("scriptSig", limit: Limits.transactionBytesMax)
            let sequence = try r.readUInt32()
            inputs.append(TxInput(previousOutput: OutPoint(txid: txid, index: index), scriptSig: Script(script), sequence: sequence))
        }
        return inputs
    }

    static func readOutputs(_ r: inout ByteReader) throws(BitcoinError) -> [TxOutput] {
        let n = try r.readCount("outputs", limit: Limits.transactionOutputsMax)
        guard n * 9 <= r.remaining else { throw .truncated(offset: r.offset, needed: n * 9) }
        var outputs = [TxOutput]()
        outputs.reserveCapacity(n)
        for _ in 0..<n {
            let value = try r.readUInt64()
            let script = try r.readVarBytes("scriptPubKey", limit: Limits.transactionBytesMax)
            outputs.append(TxOutput(value: value, scriptPubKey: Script(script)))
        }
        return outputs
    }

    // MARK: Identity and size

    /// dSHA256 of the serialization without witness, internal byte order.
    public var txid: [UInt8] { BitcoinHashes.sha256d(serialized(includingWitness: false)) }
    /// dSHA256 of the full serialization (equals txid when there is no witness), internal byte order.
    public var wtxid: [UInt8] { BitcoinHashes.sha256d(serialized(includingWitness: true)) }
    public var displayTxid: String { Hex.encode(txid.reversed()) }

    /// Size without witness ("stripped size").
    public var baseSize: Int { serialized(includingWitness: false).count }
    public var totalSize: Int { serialized(includingWitness: true).count }
    /// BIP141 weight: base size × 3 + total size.
    public var weight: Int { baseSize * 3 + totalSize }
    /// Virtual size: weight / 4, rounded up.
    public var virtualSize: Int { (weight + 3) / 4 }
}
