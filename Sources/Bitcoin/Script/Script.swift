/// One parsed script element: data pushed by a push opcode, or any other opcode.
public enum ScriptElement: Equatable, Sendable {
    /// Bytes pushed by OP_0 (empty), a direct push, or PUSHDATA1/2/4. `opcode` records which encoding was used.
    case push([UInt8], opcode: Opcode)
    /// A non-push opcode (including OP_1NEGATE and OP_1…OP_16, which push numbers but carry no data bytes).
    case op(Opcode)
}

/// A Bitcoin script: raw bytes plus typed building and parsing. Built scripts always use minimal pushes
/// (BIP62 rule 3 / Core's CheckMinimalPush), which segwit v0 policy requires and which keep script hashes canonical.
public struct Script: Hashable, Sendable {
    public private(set) var bytes: [UInt8]

    public init(_ bytes: [UInt8] = []) { self.bytes = bytes }

    public init(_ elements: [ScriptBuilderItem]) {
        self.init()
        for e in elements { append(e) }
    }

    // MARK: Building

    public mutating func append(_ item: ScriptBuilderItem) {
        switch item {
        case .op(let op): bytes.append(op.rawValue)
        case .data(let data): appendPush(data)
        case .number(let n): appendNumber(n)
        }
    }

    /// Appends `data` with the shortest push that encodes it.
    public mutating func appendPush(_ data: [UInt8]) {
        if data.isEmpty { bytes.append(Opcode.op0.rawValue); return }
        if data.count == 1, (1...16).contains(data[0]) { bytes.append(0x50 + data[0]); return }
        if data.count == 1, data[0] == 0x81 { bytes.append(Opcode.op1Negate.rawValue); return }
        switch data.count {
        case 1...75: bytes.append(UInt8(data.count))
        case 76...0xFF: bytes += [Opcode.pushData1.rawValue, UInt8(data.count)]
        case 0x100...0xFFFF: bytes += [Opcode.pushData2.rawValue, UInt8(data.count & 0xFF), UInt8(data.count >> 8)]
        default:
            bytes.append(Opcode.pushData4.rawValue)
            for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: data.count >> (8 * i))) }
        }
        bytes += data
    }

    /// Appends a number the way the interpreter reads it (CScriptNum): OP_0…OP_16 / OP_1NEGATE when possible,
    /// else the minimal little-endian sign-magnitude push.
    public mutating func appendNumber(_ n: Int64) {
        if n == -1 || (0...16).contains(n) {
            bytes.append(n == -1 ? Opcode.op1Negate.rawValue : Opcode.smallInteger(Int(n)).rawValue)
            return
        }
        appendPush(Script.encodeNumber(n))
    }

    /// CScriptNum serialization: little-endian magnitude, sign in the top bit of the last byte.
    public static func encodeNumber(_ n: Int64) -> [UInt8] {
        if n == 0 { return [] }
        var magnitude = n.magnitude
        var out = [UInt8]()
        while magnitude > 0 {
            out.append(UInt8(magnitude & 0xFF))
            magnitude >>= 8
        }
        if out.last! & 0x80 != 0 {
            out.append(n < 0 ? 0x80 : 0x00)
        } else if n < 0 {
            out[out.count - 1] |= 0x80
        }
        return out
    }

    /// Decodes a minimally encoded CScriptNum of at most `maxBytes` bytes.
    public static func decodeNumber(_ data: [UInt8], maxBytes: Int = 5) throws(BitcoinError) -> Int64 {
        guard data.count <= maxBytes else { throw .invalidScriptParameter("number longer than \(maxBytes) bytes") }
        guard !data.isEmpty else { return 0 }
        // Minimal: the last byte must carry more than the sign, unless the byte before needs its top bit.
        if data.last! & 0x7F == 0, data.count == 1 || data[data.count - 2] & 0x80 == 0 {
            throw .invalidScriptParameter("non-minimal number encoding")
        }
        var v: Int64 = 0
        for (i, b) in data.enumerated() { v |= Int64(b) << (8 * Int64(i)) }
        if data.last! & 0x80 != 0 {
            v &= ~(Int64(0x80) << (8 * Int64(data.count - 1)))
            return -v
        }
        return v
    }

    // MARK: Parsing

    /// The elements of the script. Throws on a push that runs past the end; with `requireMinimalPushes`, also on
    /// any push that has a shorter encoding.
    public func elements(requireMinimalPushes: Bool = false) throws(BitcoinError) -> [ScriptElement] {
        var out = [ScriptElement]()
        var i = 0
        while i < bytes.count {
            let start = i
            let op = Opcode(rawValue: bytes[i])
            i += 1
            guard op.isPush else { out.append(.op(op)); continue }
            var length = Int(op.rawValue)
            var width = 0
            if op == .pushData1 { width = 1 } else if op == .pushData2 { width = 2 } else if op == .pushData4 { width = 4 }
            if width > 0 {
                guard bytes.count - i >= width else { throw .scriptPushPastEnd(offset: start) }
                length = 0
                for j in 0..<width { length |= Int(bytes[i + j]) << (8 * j) }
                i += width
            }
            guard length <= bytes.count - i else { throw .scriptPushPastEnd(offset: start) }
            let data = Array(bytes[i..<i + length])
            i += length
            if requireMinimalPushes {
                var minimal = Script()
                minimal.appendPush(data)
                guard minimal.bytes == Array(bytes[start..<i]) else { throw .nonMinimalPush(offset: start) }
            }
            out.append(.push(data, opcode: op))
        }
        return out
    }

    /// Core's GetScriptOp: the opcode at `position` and where the next one starts. On a push that runs past the
    /// end it reports failure together with how far it got, because Core's legacy sighash serializer depends on it.
    func scriptOp(at position: Int) -> (opcode: UInt8, next: Int, ok: Bool) {
        var i = position
        guard i < bytes.count else { return (0xFF, i, false) }
        let op = bytes[i]
        i += 1
        guard op <= 0x4E else { return (op, i, true) }
        var length = Int(op)
        let width = op == 0x4C ? 1 : op == 0x4D ? 2 : op == 0x4E ? 4 : 0
        if width > 0 {
            guard bytes.count - i >= width else { return (op, i, false) }
            length = 0
            for j in 0..<width { length |= Int(bytes[i + j]) << (8 * j) }
            i += width
        }
        guard length <= bytes.count - i else { return (op, i, false) }
        return (op, i + length, true)
    }

    /// The script code as the legacy sighash serializes it (Core's CTransactionSignatureSerializer): every
    /// OP_CODESEPARATOR removed, the length prefix counting the whole script minus the separators found. For a
    /// malformed tail Core writes only up to where parsing stopped while keeping that length; we reproduce it,
    /// since sighash.json has such scripts.
    func legacySighashScriptCode() -> (declaredLength: Int, bytes: [UInt8]) {
        var separators = 0
        var position = 0
        while true {
            let op = scriptOp(at: position)
            guard op.ok else { break }
            if op.opcode == Opcode.codeSeparator.rawValue { separators += 1 }
            position = op.next
        }
        var out = [UInt8]()
        var segmentStart = 0
        position = 0
        while true {
            let op = scriptOp(at: position)
            position = op.next
            guard op.ok else { break }
            if op.opcode == Opcode.codeSeparator.rawValue {
                out += bytes[segmentStart..<(position - 1)]
                segmentStart = position
            }
        }
        if segmentStart != bytes.count { out += bytes[segmentStart..<min(position, bytes.count)] }
        return (bytes.count - separators, out)
    }

    // MARK: Standard output scripts

    public static func p2pkh(_ hash: [UInt8]) -> Script {
        precondition(hash.count == 20)
        return Script([.op(.dup), .op(.hash160), .data(hash), .op(.equalVerify), .op(.checkSig)])
    }
    public static func p2sh(_ hash: [UInt8]) -> Script {
        precondition(hash.count == 20)
        return Script([.op(.hash160), .data(hash), .op(.equal)])
    }
    /// Witness v0…16 output: OP_n <program>.
    public static func witness(version: Int, program: [UInt8]) -> Script {
        Script([.op(.smallInteger(version)), .data(program)])
    }
    public static func p2wpkh(_ hash: [UInt8]) -> Script { witness(version: 0, program: hash) }
    public static func p2wsh(witnessScript: Script) -> Script {
        witness(version: 0, program: BitcoinHashes.sha256(witnessScript.bytes))
    }
    public static func p2sh(redeemScript: Script) -> Script { p2sh(BitcoinHashes.hash160(redeemScript.bytes)) }

    /// The witness version and program if this is a witness output (BIP141: OP_n then one push of 2…40 bytes).
    public var witnessProgram: (version: Int, program: [UInt8])? {
        guard bytes.count >= 4, bytes.count <= 42 else { return nil }
        let v = Opcode(rawValue: bytes[0])
        guard let version = v.smallIntegerValue, Int(bytes[1]) + 2 == bytes.count else { return nil }
        return (version, Array(bytes[2...]))
    }
}

/// What `Script.init(_:)` accepts: opcodes, data (pushed minimally) and numbers (pushed as CScriptNum).
public enum ScriptBuilderItem: Sendable {
    case op(Opcode)
    case data([UInt8])
    case number(Int64)
}
