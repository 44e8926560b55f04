import Crypto

/// Keccak-256 as Ethereum uses it: the original Keccak padding (0x01 … 0x80), rate 1088 bits. This is not
/// FIPS 202 SHA3-256, which pads with 0x06; swift-crypto has only the latter.
public enum Keccak256 {
    static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]
    /// Rotation offsets indexed by lane x + 5y.
    static let rotations: [UInt64] = [
        0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
    ]
    static let rate = 136

    /// The 32-byte digest of `data`.
    public static func hash(_ data: some Sequence<UInt8>) -> [UInt8] {
        var state = [UInt64](repeating: 0, count: 25)
        var block = [UInt8]()
        block.reserveCapacity(rate)
        for byte in data {
            block.append(byte)
            if block.count == rate {
                absorb(block, into: &state)
                block.removeAll(keepingCapacity: true)
            }
        }
        // Final block: Keccak pad10*1 with domain byte 0x01.
        var last = block + [UInt8](repeating: 0, count: rate - block.count)
        last[block.count] ^= 0x01
        last[rate - 1] ^= 0x80
        absorb(last, into: &state)
        var out = [UInt8]()
        out.reserveCapacity(32)
        for lane in 0..<4 {
            for j in 0..<8 { out.append(UInt8(truncatingIfNeeded: state[lane] >> (8 * UInt64(j)))) }
        }
        return out
    }

    static func absorb(_ block: [UInt8], into state: inout [UInt64]) {
        for lane in 0..<(rate / 8) {
            var v: UInt64 = 0
            for j in 0..<8 { v |= UInt64(block[lane * 8 + j]) << (8 * UInt64(j)) }
            state[lane] ^= v
        }
        permute(&state)
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ n: UInt64) -> UInt64 { n == 0 ? x : (x << n) | (x >> (64 - n)) }

    /// Keccak-f[1600]: 24 rounds of θ, ρ, π, χ, ι.
    static func permute(_ a: inout [UInt64]) {
        a.withUnsafeMutableBufferPointer { s in
            var c = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            var b = [UInt64](repeating: 0, count: 25)
            for round in 0..<24 {
                // θ
                c.0 = s[0] ^ s[5] ^ s[10] ^ s[15] ^ s[20]
                c.1 = s[1] ^ s[6] ^ s[11] ^ s[16] ^ s[21]
                c.2 = s[2] ^ s[7] ^ s[12] ^ s[17] ^ s[22]
                c.3 = s[3] ^ s[8] ^ s[13] ^ s[18] ^ s[23]
                c.4 = s[4] ^ s[9] ^ s[14] ^ s[19] ^ s[24]
                let d0 = c.4 ^ rotl(c.1, 1)
                let d1 = c.0 ^ rotl(c.2, 1)
                let d2 = c.1 ^ rotl(c.3, 1)
                let d3 = c.2 ^ rotl(c.4, 1)
                let d4 = c.3 ^ rotl(c.0, 1)
                for y in stride(from: 0, to: 25, by: 5) {
                    s[y] ^= d0
                    s[y + 1] ^= d1
                    s[y + 2] ^= d2
                    s[y + 3] ^= d3
                    s[y + 4] ^= d4
                }
                // ρ and π: B[y, 2x+3y] = rot(A[x, y], r[x, y])
                for x in 0..<5 {
                    for y in 0..<5 {
                        let src = x + 5 * y
                        let dst = y + 5 * ((2 * x + 3 * y) % 5)
                        b[dst] = rotl(s[src], rotations[src])
                    }
                }
                // χ
                for y in stride(from: 0, to: 25, by: 5) {
                    for x in 0..<5 {
                        s[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] & b[y + (x + 2) % 5])
                    }
                }
                // ι
                s[0] ^= roundConstants[round]
            }
        }
    }
}

/// RIPEMD-160 (Dobbertin, Bosselaers, Preneel 1996), needed for Bitcoin's HASH160; swift-crypto lacks it.
public enum RIPEMD160 {
    static let rl: [Int] = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
        3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12, 1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2,
        4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13,
    ]
    static let rr: [Int] = [
        5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12, 6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2,
        15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13, 8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14,
        12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11,
    ]
    static let sl: [UInt32] = [
        11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8, 7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12,
        11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5, 11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12,
        9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6,
    ]
    static let sr: [UInt32] = [
        8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6, 9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11,
        9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5, 15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8,
        8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11,
    ]
    static let kl: [UInt32] = [0x0000_0000, 0x5A82_7999, 0x6ED9_EBA1, 0x8F1B_BCDC, 0xA953_FD4E]
    static let kr: [UInt32] = [0x50A2_8BE6, 0x5C4D_D124, 0x6D70_3EF3, 0x7A6D_76E9, 0x0000_0000]

    @inline(__always) static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }

    @inline(__always) static func f(_ j: Int, _ x: UInt32, _ y: UInt32, _ z: UInt32) -> UInt32 {
        switch j / 16 {
        case 0: return x ^ y ^ z
        case 1: return (x & y) | (~x & z)
        case 2: return (x | ~y) ^ z
        case 3: return (x & z) | (y & ~z)
        default: return x ^ (y | ~z)
        }
    }

    /// The 20-byte digest of `data`.
    public static func hash(_ data: some Collection<UInt8>) -> [UInt8] {
        var message = Array(data)
        let bitLength = UInt64(message.count) &* 8
        message.append(0x80)
        while message.count % 64 != 56 { message.append(0) }
        for i in 0..<8 { message.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        var x = [UInt32](repeating: 0, count: 16)
        for chunk in stride(from: 0, to: message.count, by: 64) {
            for i in 0..<16 {
                let o = chunk + 4 * i
                x[i] =
                    UInt32(message[o]) | UInt32(message[o + 1]) << 8 | UInt32(message[o + 2]) << 16
                    | UInt32(message[o + 3]) << 24
            }
            var al = h[0], bl = h[1], cl = h[2], dl = h[3], el = h[4]
            var ar = h[0], br = h[1], cr = h[2], dr = h[3], er = h[4]
            for j in 0..<80 {
                var t = rotl(al &+ f(j, bl, cl, dl) &+ x[rl[j]] &+ kl[j / 16], sl[j]) &+ el
                al = el
                el = dl
                dl = rotl(cl, 10)
                cl = bl
                bl = t
                t = rotl(ar &+ f(79 - j, br, cr, dr) &+ x[rr[j]] &+ kr[j / 16], sr[j]) &+ er
                ar = er
                er = dr
                dr = rotl(cr, 10)
                cr = br
                br = t
            }
            let t = h[1] &+ cl &+ dr
            h[1] = h[2] &+ dl &+ er
            h[2] = h[3] &+ el &+ ar
            h[3] = h[4] &+ al &+ br
            h[4] = h[0] &+ bl &+ cr
            h[0] = t
        }
        var out = [UInt8]()
        out.reserveCapacity(20)
        for word in h {
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(i)))) }
        }
        return out
    }
}

/// Bitcoin's composite hashes.
public enum BitcoinHash {
    /// SHA-256(SHA-256(data)).
    public static func sha256d(_ data: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: Array(SHA256.hash(data: data))))
    }

    /// SHA-256 of `data`.
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: data))
    }

    /// RIPEMD-160(SHA-256(data)).
    public static func hash160(_ data: [UInt8]) -> [UInt8] {
        RIPEMD160.hash(Array(SHA256.hash(data: data)))
    }

    /// BIP340 tagged hash: SHA-256(SHA-256(tag) ‖ SHA-256(tag) ‖ data).
    public static func tagged(_ tag: String, _ data: [UInt8]) -> [UInt8] {
        let t = Array(SHA256.hash(data: Array(tag.utf8)))
        return Array(SHA256.hash(data: t + t + data))
    }
}

/// Hex helpers for public data (test vectors, CLI output). Not constant-time.
public enum Hex {
    /// Lower-case hex.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var s = ""
        for b in bytes { s += byteHex(b) }
        return s
    }

    /// Decodes hex (either case, optional 0x prefix); nil on odd length or a non-hex digit.
    public static func decode(_ string: some StringProtocol) -> [UInt8]? {
        var chars = Array(string.utf8)
        if chars.count >= 2, chars[0] == UInt8(ascii: "0"), chars[1] == UInt8(ascii: "x") || chars[1] == UInt8(ascii: "X") {
            chars.removeFirst(2)
        }
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
