/// The subset of CBOR (RFC 8949) that AWS Nitro attestation documents use: definite-length items of major
/// types 0-5, tags (6) and the simple values false/true/null. Indefinite lengths, floats and nesting deeper than
/// `maximumDepth` are rejected, so a hostile document cannot make the decoder allocate or recurse without bound.
indirect enum CBORValue: Sendable, Hashable {
    case unsigned(UInt64)
    /// The value is -1 - n.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBORValue])
    case map([(CBORValue, CBORValue)])
    case tagged(UInt64, CBORValue)
    case bool(Bool)
    case null

    static func == (a: CBORValue, b: CBORValue) -> Bool {
        switch (a, b) {
        case (.unsigned(let x), .unsigned(let y)): return x == y
        case (.negative(let x), .negative(let y)): return x == y
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.text(let x), .text(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.map(let x), .map(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.tagged(let t, let x), .tagged(let u, let y)): return t == u && x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    func hash(into h: inout Hasher) {
        switch self {
        case .unsigned(let x): h.combine(0); h.combine(x)
        case .negative(let x): h.combine(1); h.combine(x)
        case .bytes(let x): h.combine(2); h.combine(x)
        case .text(let x): h.combine(3); h.combine(x)
        case .array(let x): h.combine(4); h.combine(x)
        case .map(let x): h.combine(5); h.combine(x.count)
        case .tagged(let t, let x): h.combine(6); h.combine(t); h.combine(x)
        case .bool(let x): h.combine(7); h.combine(x)
        case .null: h.combine(8)
        }
    }

    static let maximumDepth = 16

    /// Decodes exactly one item from `bytes`; trailing bytes are an error.
    static func decode(_ bytes: [UInt8]) throws(EvidenceParseError) -> CBORValue {
        var decoder = CBORDecoder(bytes: bytes)
        let value = try decoder.item(depth: 0)
        guard decoder.offset == bytes.count else { throw .trailingBytes(structure: "nitro COSE_Sign1", count: bytes.count - decoder.offset) }
        return value
    }

    /// Text-keyed map lookup.
    subscript(key: String) -> CBORValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.0 == .text(key) }?.1
    }
}

private struct CBORDecoder {
    let bytes: [UInt8]
    var offset = 0

    mutating func byte() throws(EvidenceParseError) -> UInt8 {
        guard offset < bytes.count else { throw .invalidCBOR(detail: "truncated at offset \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func argument(_ info: UInt8) throws(EvidenceParseError) -> UInt64 {
        switch info {
        case 0..<24: return UInt64(info)
        case 24...27:
            let width = 1 << Int(info - 24)
            var v: UInt64 = 0
            for _ in 0..<width { v = v << 8 | UInt64(try byte()) }
            return v
        default: throw .invalidCBOR(detail: "unsupported additional information \(info) at offset \(offset - 1)")
        }
    }

    mutating func take(_ length: UInt64) throws(EvidenceParseError) -> [UInt8] {
        guard length <= UInt64(bytes.count - offset) else { throw .invalidCBOR(detail: "length \(length) exceeds the \(bytes.count - offset) remaining bytes") }
        let n = Int(length)
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    mutating func item(depth: Int) throws(EvidenceParseError) -> CBORValue {
        guard depth <= CBORValue.maximumDepth else { throw .invalidCBOR(detail: "nesting deeper than \(CBORValue.maximumDepth)") }
        let initial = try byte()
        let major = initial >> 5, info = initial & 0x1F
        switch major {
        case 0: return .unsigned(try argument(info))
        case 1: return .negative(try argument(info))
        case 2: return .bytes(try take(try argument(info)))
        case 3:
            let raw = try take(try argument(info))
            guard let s = String(validating: raw, as: UTF8.self) else { throw .invalidCBOR(detail: "text string is not UTF-8") }
            return .text(s)
        case 4:
            let count = try argument(info)
            // Each element needs at least one byte: a count beyond the remaining input is a lie.
            guard count <= UInt64(bytes.count - offset) else { throw .invalidCBOR(detail: "array of \(count) items exceeds the input") }
            var items: [CBORValue] = []
            for _ in 0..<count { items.append(try item(depth: depth + 1)) }
            return .array(items)
        case 5:
            let count = try argument(info)
            guard count <= UInt64(bytes.count - offset) / 2 else { throw .invalidCBOR(detail: "map of \(count) entries exceeds the input") }
            var entries: [(CBORValue, CBORValue)] = []
            for _ in 0..<count {
                let key = try item(depth: depth + 1)
                let value = try item(depth: depth + 1)
                entries.append((key, value))
            }
            return .map(entries)
        case 6:
            let tag = try argument(info)
            return .tagged(tag, try item(depth: depth + 1))
        default:
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            default: throw .invalidCBOR(detail: "unsupported simple value or float (info \(info))")
            }
        }
    }
}

enum CBOREncoder {
    /// The head of an item with major type `major` and argument `value`, in the shortest form.
    static func head(_ major: UInt8, _ value: UInt64) -> [UInt8] {
        let m = major << 5
        switch value {
        case 0..<24: return [m | UInt8(value)]
        case 24..<0x100: return [m | 24, UInt8(value)]
        case 0x100..<0x10000: return [m | 25, UInt8(value >> 8), UInt8(value & 0xFF)]
        case 0x10000..<0x1_0000_0000: return [m | 26] + (0..<4).reversed().map { UInt8((value >> (8 * UInt64($0))) & 0xFF) }
        default: return [m | 27] + (0..<8).reversed().map { UInt8((value >> (8 * UInt64($0))) & 0xFF) }
        }
    }

    static func bytes(_ b: [UInt8]) -> [UInt8] { head(2, UInt64(b.count)) + b }
}
