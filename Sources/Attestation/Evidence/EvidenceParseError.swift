/// Why evidence bytes could not be parsed. Every malformed input maps to one of these; parsers never trap.
public enum EvidenceParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended before a field the structure's own lengths say must be present.
    case truncated(structure: String, field: String, needed: Int, available: Int)
    /// The input is larger than any genuine evidence of this kind (a cheap defence before parsing).
    case oversize(structure: String, length: Int, maximum: Int)
    /// The version field names a format this parser does not implement.
    case unsupportedVersion(structure: String, version: UInt32)
    /// A field holds a value the format does not allow (wrong key type, unknown TEE type, bad magic...).
    case invalidField(structure: String, field: String, detail: String)
    /// A length field disagrees with the structure it describes.
    case inconsistentLength(structure: String, field: String, declared: Int, expected: Int)
    /// Bytes follow a structure that must end the input.
    case trailingBytes(structure: String, count: Int)
    /// A field that the format says must be zero is not.
    case nonZeroReserved(structure: String, field: String)
    /// `auto` could not tell which platform produced the bytes.
    case unrecognisedFormat
    /// The CBOR encoding of a Nitro document is malformed or uses a feature outside the subset Nitro uses.
    case invalidCBOR(detail: String)
    /// Simulated evidence failed its own parser.
    case simulated(SimulatedEvidenceError)

    public var description: String {
        switch self {
        case .truncated(let s, let f, let n, let a): return "\(s): truncated at \(f) (needs \(n) bytes, \(a) left)"
        case .oversize(let s, let l, let m): return "\(s): \(l) bytes exceeds the maximum of \(m)"
        case .unsupportedVersion(let s, let v): return "\(s): unsupported version \(v)"
        case .invalidField(let s, let f, let d): return "\(s): invalid \(f): \(d)"
        case .inconsistentLength(let s, let f, let d, let e): return "\(s): \(f) declares \(d) bytes, expected \(e)"
        case .trailingBytes(let s, let c): return "\(s): \(c) trailing bytes"
        case .nonZeroReserved(let s, let f): return "\(s): reserved field \(f) is not zero"
        case .unrecognisedFormat: return "evidence: format not recognised (pass --platform)"
        case .invalidCBOR(let d): return "nitro: invalid CBOR: \(d)"
        case .simulated(let e): return "simulated: \(e)"
        }
    }
}
