import Foundation
import Secp256k1
import TestSupport
import Testing

/// Keccak-256 against the Keccak team's KAT and the Ethereum-style vectors; RIPEMD-160 against its authors'
/// published test values; SHA-256d and HASH160 against Bitcoin's well-known constants.
@Suite(.dedicatedThread) struct HashVectorTests {
    struct KeccakVectors: Decodable {
        struct Vector: Decodable { let label: String, msg_hex: String, keccak256: String, sha3_256_for_contrast: String }
        let vectors: [Vector]
    }

    @Test func keccakShortMessageKAT() throws {
        let text = String(decoding: try TestData.bytes("crypto/keccak/ShortMsgKAT_256.txt"), as: UTF8.self)
        var length = -1, message = "", checked = 0
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "Len": length = Int(parts[1])!
            case "Msg": message = parts[1]
            case "MD":
                guard length % 8 == 0 else { continue }
                let msg = Array(Hex.decode(message)!.prefix(length / 8))
                #expect(Hex.encode(Keccak256.hash(msg)) == parts[1].lowercased(), "Len = \(length)")
                checked += 1
            default: break
            }
        }
        #expect(checked == 256)
    }

    @Test func keccakVectorsAndNotSHA3() throws {
        let file = try TestData.json("crypto/keccak/keccak256_vectors.json", as: KeccakVectors.self)
        #expect(file.vectors.count >= 9)
        for v in file.vectors {
            let digest = Hex.encode(Keccak256.hash(Hex.decode(v.msg_hex)!))
            #expect(digest == v.keccak256, "\(v.label)")
            #expect(digest != v.sha3_256_for_contrast)
        }
    }

    @Test func ripemd160PublishedValues() {
        let vectors: [(String, String)] = [
            ("", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
            ("a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
            ("abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
            ("message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
            ("abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "12a053384a9c0c88e405a06c27dcf49ada62eb2b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "b0e20b6e3116640286ed3a87a5713079b21f5189"),
            (String(repeating: "1234567890", count: 8), "9b752e45573d4b39f4dbd3323cab82bf63326bfb"),
        ]
        for (message, digest) in vectors {
            #expect(Hex.encode(RIPEMD160.hash(Array(message.utf8))) == digest, "\(message)")
        }
        #expect(Hex.encode(RIPEMD160.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
            == "52783243c1697bdbe16d37f97f68f08325dc1528")
    }

    @Test func bitcoinHashes() {
        // HASH160 of the compressed generator point (private key 1): the hash behind 1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH.
        let g = Point.generator.compressed
        #expect(Hex.encode(BitcoinHash.hash160(g)) == "751e76e8199196d454941c45d1b3a323f1433bd6")
        // Genesis block header hash.
        let genesis = Hex.decode(
            "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
        )!
        #expect(Hex.encode(BitcoinHash.sha256d(genesis).reversed())
            == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f")
    }

    @Test func hexRejectsGarbage() {
        #expect(Hex.decode("0g") == nil)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("0xAbCd") == [0xAB, 0xCD])
    }
}
