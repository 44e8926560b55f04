/// Base58Check addresses (P2PKH, P2SH): version byte ‖ 20-byte hash ‖ 4-byte dSHA256 checksum, in base 58.
public enum Base58Address {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    static let reverse: [Int8] = {
        var r = [Int8](repeating: -1, count: 128)
        for (i, c) in alphabet.enumerated() { r[Int(c)] = Int8(i) }
        return r
    }()
    /// Longest Base58Check string we accept: 25 bytes encode to at most 35 characters.
    static let charactersMax = 50

    public static func encode(version: UInt8, payload: [UInt8]) -> String {
        let body = [version] + payload
        let data = body + BitcoinHashes.sha256d(body).prefix(4)
        var digits = [UInt8]()  // base-58 digits, little-endian
        for byte in data {
            var carry = Int(byte)
            for j in 0..<digits.count {
                carry += Int(digits[j]) << 8
                digits[j] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 { digits.append(UInt8(carry % 58)); carry /= 58 }
        }
        let zeros = data.prefix { $0 == 0 }.count
        let chars = [UInt8](repeating: alphabet[0], count: zeros) + digits.reversed().map { alphabet[Int($0)] }
        return String(decoding: chars, as: UTF8.self)
    }

    /// Returns (version, payload) after checking characters, length and checksum.
    public static func decode(_ string: String) throws(BitcoinError) -> (version: UInt8, payload: [UInt8]) {
        let chars = Array(string.utf8)
        guard !chars.isEmpty, chars.count <= charactersMax else { throw .invalidBase58("length \(chars.count)") }
        var bytes = [UInt8]()  // little-endian
        for c in chars {
            let v = c < 128 ? reverse[Int(c)] : -1
            guard v >= 0 else { throw .invalidBase58("invalid character") }
            var carry = Int(v)
            for j in 0..<bytes.count {
                carry += Int(bytes[j]) * 58
                bytes[j] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 { bytes.append(UInt8(carry & 0xFF)); carry >>= 8 }
        }
        let zeros = chars.prefix { $0 == alphabet[0] }.count
        let data = [UInt8](repeating: 0, count: zeros) + bytes.reversed()
        guard data.count >= 5 else { throw .invalidBase58("too short") }
        let body = Array(data.dropLast(4))
        guard Array(BitcoinHashes.sha256d(body).prefix(4)) == Array(data.suffix(4)) else {
            throw .invalidBase58("checksum mismatch")
        }
        return (body[0], Array(body.dropFirst()))
    }
}
