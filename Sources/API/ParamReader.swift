import Secp256k1

/// Reads one JSON object of request parameters: every member must be known (an unknown one is refused, so a typo
/// is an error rather than a silently ignored field), and every error names the member by its path from `params`.
struct ParamReader {
    let path: String
    let members: [(String, JSONValue)]

    init(_ value: JSONValue?, path: String) throws(RPCError) {
        self.path = path
        guard let value else { throw .invalidParams(path, "missing") }
        guard case .object(let members) = value else { throw .invalidParams(path, "must be an object, got \(value.kind)") }
        self.members = members
    }

    func name(_ member: String) -> String { path.isEmpty ? member : "\(path).\(member)" }

    /// Refuses any member not in `allowed`.
    func only(_ allowed: [String]) throws(RPCError) {
        for (key, _) in members where !allowed.contains(key) { throw .invalidParams(name(key), "unknown member") }
    }

    func optional(_ member: String) -> JSONValue? { members.first { $0.0 == member }?.1 }

    func required(_ member: String) throws(RPCError) -> JSONValue {
        guard let v = optional(member) else { throw .invalidParams(name(member), "missing") }
        return v
    }

    func string(_ member: String) throws(RPCError) -> String {
        let v = try required(member)
        guard case .string(let s) = v else { throw .invalidParams(name(member), "must be a string, got \(v.kind)") }
        return s
    }

    /// RenVM `bytes`/`bytesN`: unpadded URL-alphabet base64; `count` fixes the length.
    func bytes(_ member: String, count: Int? = nil) throws(RPCError) -> [UInt8] {
        try Self.bytes(try string(member), field: name(member), count: count)
    }

    static func bytes(_ text: String, field: String, count: Int?) throws(RPCError) -> [UInt8] {
        guard let b = Base64URL.decode(text) else { throw .invalidParams(field, "not unpadded URL-safe base64") }
        if let count, b.count != count { throw .invalidParams(field, "must be \(count) bytes, got \(b.count)") }
        return b
    }

    /// Hex (either case, no prefix) as this node's own methods take it.
    func hex(_ member: String) throws(RPCError) -> [UInt8] {
        let s = try string(member)
        guard !s.hasPrefix("0x"), !s.hasPrefix("0X"), let b = Hex.decode(s) else { throw .invalidParams(name(member), "not hex") }
        return b
    }

    /// RenVM `u32`: a decimal string without leading zeros.
    func u32(_ member: String) throws(RPCError) -> UInt32 {
        let s = try string(member)
        guard let v = Self.decimal(s), v <= UInt64(UInt32.max) else { throw .invalidParams(name(member), "must be a decimal u32 string") }
        return UInt32(v)
    }

    /// A decimal string without sign or leading zeros that fits in 64 bits.
    static func decimal(_ s: String) -> UInt64? {
        let digits = Array(s.utf8)
        guard !digits.isEmpty, digits.count <= 20, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard digits.count == 1 || digits[0] != 0x30 else { return nil }
        return UInt64(s)
    }
}
