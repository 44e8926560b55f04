import API
import Foundation
import Testing

@Suite struct JSONParserTests {
    @Test func parsesNestedValuesKeepingNumberTextAndOrder() throws {
        let v = try JSONParser.parse(Array(#" {"b": [1, -2.5e3, true, null], "a": "x\u00e9\ud83d\ude00\n"} "#.utf8))
        #expect(v == .object([
            ("b", .array([.number("1"), .number("-2.5e3"), .bool(true), .null])),
            ("a", .string("xé😀\n")),
        ]))
        // Serialization keeps member order and escapes what JSON requires.
        #expect(String(decoding: v.serialized, as: UTF8.self) == #"{"b":[1,-2.5e3,true,null],"a":"xé😀\n"}"#)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "+1", ".5", "tru", "nul", "\"abc", "\"\\x\"", "\"\\ud800\"",
        "\"\\udc00\"", "{\"a\":1 \"b\":2}", "{\"a\":1,\"a\":2}", "[1] [2]", "{a:1}", "'x'", "\"\u{01}\"", "NaN",
    ])
    func refusesMalformedText(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func refusesInvalidUTF8InStrings() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: JSONParser.depthMax + 1) + String(repeating: "]", count: JSONParser.depthMax + 1)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(deep.utf8)) }
        let allowed = String(repeating: "[", count: JSONParser.depthMax) + String(repeating: "]", count: JSONParser.depthMax)
        _ = try JSONParser.parse(Array(allowed.utf8))
    }
}

@Suite struct Base64URLTests {
    /// Foundation's base64 with the URL alphabet substituted and padding dropped is an independent oracle.
    @Test func matchesFoundationForEveryLengthUpTo70() {
        var bytes: [UInt8] = []
        for n in 0...70 {
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == foundation)
            #expect(Base64URL.decode(foundation) == bytes)
            bytes.append(UInt8(truncatingIfNeeded: n &* 37 &+ 11))
        }
    }

    @Test(arguments: ["AQ==", "A", "AQ+/", "AQ/", "A Q", "AR", "AQF", "é"])
    func refusesNonCanonicalText(_ text: String) {
        // Padding, the standard alphabet, a lone sextet, whitespace and non-zero unused bits ("AR", "AQF").
        #expect(Base64URL.decode(text) == nil)
    }
}

@Suite struct RenVMTransactionHashTests {
    /// Known answer computed outside Swift (Python hashlib over renproject/pack's binary encoding as ren-js
    /// `generateTransactionHash` builds it).
    @Test func matchesIndependentlyComputedHash() {
        let input = RenVMMintInput(
            txid: [UInt8](repeating: 0x11, count: 32), txindex: 1, amount: 50_000, payload: Array("hello".utf8),
            phash: [UInt8](repeating: 0x22, count: 32), to: "0x00112233445566778899aabbccddeeff00112233",
            nonce: [UInt8](repeating: 0x33, count: 32), nhash: [UInt8](repeating: 0x44, count: 32), gpubkey: [],
            ghash: [UInt8](repeating: 0x55, count: 32))
        #expect(Base64URL.encode(input.transactionHash(selector: "BTC/toEthereum")) == "VGanazj5m5QmuwmBuYvWwsHgfiBQXgAtq1izeE_IndQ")
        // The selector is covered.
        #expect(input.transactionHash(selector: "BTC/toPolygon") != input.transactionHash(selector: "BTC/toEthereum"))
    }
}
