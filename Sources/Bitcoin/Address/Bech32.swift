/// Bech32 (BIP173) and bech32m (BIP350) strings. The two differ only in the checksum constant; BIP350 assigns
/// bech32 to witness v0 and bech32m to v1+, because bech32's checksum lets a trailing 'q' be inserted or removed
/// before a final 'p' without detection.
public enum Bech32 {
    public enum Encoding: Sendable, Equatable {
        case bech32, bech32m
        var constant: UInt32 { self == .bech32 ? 1 : 0x2BC8_30A3 }
    }

    static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    static let reverse: [Int8] = {
        var r = [Int8](repeating: -1, count: 128)
        for (i, c) in charset.enumerated() { r[Int(c)] = Int8(i) }
        return r
    }()

    static func polymod(_ values: [UInt8]) -> UInt32 {
        let gen: [UInt32] = [0x3B6A_57B2, 0x2650_8E6D, 0x1EA1_19FA, 0x3D42_33DD, 0x2A14_62B3]
        var chk: UInt32 = 1
        for v in values {
            let top = chk >> 25
            chk = (chk & 0x1FF_FFFF) << 5 ^ UInt32(v)
            for i in 0..<5 where (top >> UInt32(i)) & 1 == 1 { chk ^= gen[i] }
        }
        return chk
    }

    static func expandHRP(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    /// Encodes 5-bit `data` under a lower-case `hrp`.
    public static func encode(hrp: String, data: [UInt8], encoding: Encoding) -> String {
        let h = Array(hrp.utf8)
        let mod = polymod(expandHRP(h) + data + [0, 0, 0, 0, 0, 0]) ^ encoding.constant
        let checksum = (0..<6).map { UInt8((mod >> (5 * (5 - UInt32($0)))) & 31) }
        return hrp + "1" + String(decoding: (data + checksum).map { charset[Int($0)] }, as: UTF8.self)
    }

    /// Decodes a string, returning the lower-case hrp, the 5-bit data (checksum removed) and which checksum matched.
    public static func decode(_ string: String) throws(BitcoinError) -> (hrp: String, data: [UInt8], encoding: Encoding) {
        let bytes = Array(string.utf8)
        guard bytes.count <= Limits.bech32CharactersMax else { throw .invalidBech32("longer than 90 characters") }
        guard bytes.allSatisfy({ $0 >= 33 && $0 <= 126 }) else { throw .invalidBech32("character outside 33…126") }
        let hasLower = bytes.contains { $0 >= 97 && $0 <= 122 }, hasUpper = bytes.contains { $0 >= 65 && $0 <= 90 }
        guard !(hasLower && hasUpper) else { throw .invalidBech32("mixed case") }
        let lower = bytes.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }
        guard let sep = lower.lastIndex(of: UInt8(ascii: "1")) else { throw .invalidBech32("no separator") }
        guard sep >= 1 else { throw .invalidBech32("empty human-readable part") }
        guard lower.count - sep - 1 >= 6 else { throw .invalidBech32("checksum too short") }
        let hrp = Array(lower[..<sep])
        var data = [UInt8]()
        for c in lower[(sep + 1)...] {
            let v = c < 128 ? reverse[Int(c)] : -1
            guard v >= 0 else { throw .invalidBech32("invalid data character") }
            data.append(UInt8(v))
        }
        let check = polymod(expandHRP(hrp) + data)
        let encoding: Encoding
        if check == Encoding.bech32.constant { encoding = .bech32 }
        else if check == Encoding.bech32m.constant { encoding = .bech32m }
        else { throw .invalidBech32("checksum mismatch") }
        return (String(decoding: hrp, as: UTF8.self), Array(data.dropLast(6)), encoding)
    }

    /// Regroups bits (BIP173 convertbits). Decoding (`pad == false`) rejects leftover bits that are non-zero or
    /// form a whole group, as the reference does.
    public static func convertBits(_ data: [UInt8], from: Int, to: Int, pad: Bool) throws(BitcoinError) -> [UInt8] {
        var acc = 0, bits = 0
        var out = [UInt8]()
        let maxv = (1 << to) - 1
        for v in data {
            guard Int(v) >> from == 0 else { throw .invalidBech32("value out of range") }
            acc = (acc << from) | Int(v)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8((acc >> bits) & maxv))
            }
            acc &= (1 << bits) - 1
        }
        if pad {
            if bits > 0 { out.append(UInt8((acc << (to - bits)) & maxv)) }
        } else if bits >= from || ((acc << (to - bits)) & maxv) != 0 {
            throw .invalidBech32("invalid padding")
        }
        return out
    }
}

/// Segwit addresses (BIP173 for v0, BIP350 for v1…16).
public enum SegwitAddress {
    public static func encode(network: Network, version: Int, program: [UInt8]) throws(BitcoinError) -> String {
        try encode(hrp: network.bech32HRP, version: version, program: program)
    }

    public static func encode(hrp: String, version: Int, program: [UInt8]) throws(BitcoinError) -> String {
        try validate(version: version, program: program)
        let data = [UInt8(version)] + (try Bech32.convertBits(program, from: 8, to: 5, pad: true))
        return Bech32.encode(hrp: hrp, data: data, encoding: version == 0 ? .bech32 : .bech32m)
    }

    /// Decodes and checks version, program length and the checksum variant the version requires.
    public static func decode(_ address: String) throws(BitcoinError) -> (hrp: String, version: Int, program: [UInt8]) {
        let (hrp, data, encoding) = try Bech32.decode(address)
        guard let first = data.first else { throw .invalidBech32("no witness version") }
        guard first <= 16 else { throw .invalidWitnessProgram(version: Int(first), length: 0) }
        let program = try Bech32.convertBits(Array(data.dropFirst()), from: 5, to: 8, pad: false)
        try validate(version: Int(first), program: program)
        guard encoding == (first == 0 ? .bech32 : .bech32m) else {
            throw .invalidBech32("witness v\(first) with the wrong checksum variant")
        }
        return (hrp, Int(first), program)
    }

    static func validate(version: Int, program: [UInt8]) throws(BitcoinError) {
        guard (0...16).contains(version), (2...40).contains(program.count) else {
            throw .invalidWitnessProgram(version: version, length: program.count)
        }
        if version == 0, program.count != 20, program.count != 32 {
            throw .invalidWitnessProgram(version: version, length: program.count)
        }
    }
}
