// Goal: scripts are built with minimal pushes and parsed back exactly; the gateway, custody and RenVM legacy
// scripts have the byte layout the issue and ren-js v3's `gatewayScript` (docs/bitcoin.md) specify. Method: build,
// compare against hand-assembled bytes, parse back, and feed malformed scripts to the parser.
import Bitcoin
import Secp256k1
import Testing
import TestSupport

@Suite(.dedicatedThread) struct ScriptTests {
    @Test func minimalPushesAndNumbers() throws {
        var s = Script()
        s.appendPush([])
        s.appendPush([5])
        s.appendPush([0x81])
        s.appendPush([UInt8](repeating: 0xAA, count: 75))
        s.appendPush([UInt8](repeating: 0xBB, count: 76))
        s.appendPush([UInt8](repeating: 0xCC, count: 256))
        #expect(s.bytes[0] == 0x00 && s.bytes[1] == 0x55 && s.bytes[2] == 0x4F && s.bytes[3] == 75)
        #expect(s.bytes[79] == 0x4C && s.bytes[80] == 76)
        #expect(Array(s.bytes[157...159]) == [0x4D, 0x00, 0x01])
        let elements = try s.elements(requireMinimalPushes: true)
        #expect(elements.count == 6)
        #expect(Script.encodeNumber(1008) == [0xF0, 0x03])
        #expect(Script.encodeNumber(128) == [0x80, 0x00])
        #expect(Script.encodeNumber(-1) == [0x81])
        #expect(Script.encodeNumber(-255) == [0xFF, 0x80])
        for n: Int64 in [1, 127, 128, 255, 256, 1008, 65535, -5, -128, 8_388_607] {
            #expect(try Script.decodeNumber(Script.encodeNumber(n)) == n)
        }
        #expect(throws: BitcoinError.self) { try Script.decodeNumber([0x05, 0x00]) }
    }

    @Test func parserRejectsBadPushes() {
        #expect(throws: BitcoinError.scriptPushPastEnd(offset: 0)) { try Script([0x05, 1, 2]).elements() }
        #expect(throws: BitcoinError.scriptPushPastEnd(offset: 0)) { try Script([0x4D, 0x01]).elements() }
        #expect(throws: BitcoinError.nonMinimalPush(offset: 0)) { try Script([0x4C, 0x01, 0x07]).elements(requireMinimalPushes: true) }
        #expect(throws: BitcoinError.nonMinimalPush(offset: 0)) { try Script([0x01, 0x07]).elements(requireMinimalPushes: true) }
        #expect((try? Script([0x01, 0x07]).elements()) != nil)
    }

    func gateway(gHash: [UInt8]?) throws -> GatewayScript {
        let recovery = try RecoveryPolicy(threshold: 2, keys: [testKey(10), testKey(11), testKey(12)].map(\.publicKey))
        return try GatewayScript(gHash: gHash, shardKey: testKey(1).publicKey, recovery: recovery)
    }

    @Test func gatewayScriptLayout() throws {
        let gHash = [UInt8](repeating: 0x11, count: 32)
        let g = try gateway(gHash: gHash)
        let keys = [testKey(10), testKey(11), testKey(12)].map(\.publicKey.compressed)
        let expected: [UInt8] = [0x63, 0x20] + gHash + [0x75, 0x21] + testKey(1).publicKey.compressed + [0xAC, 0x67, 0x02, 0xF0, 0x03, 0xB2, 0x75, 0x52]
            + keys.flatMap { [0x21] + $0 } + [0x53, 0xAE, 0x68]
        #expect(g.witnessScript.bytes == expected)
        #expect(try GatewayScript(parsing: g.witnessScript) == g)
        #expect(g.scriptPubKey.bytes == [0x00, 0x20] + BitcoinHash.sha256(expected))
        #expect(g.address(network: .mainnet).hasPrefix("bc1q"))
        #expect(g.address(network: .regtest).hasPrefix("bcrt1q"))

        let custody = try gateway(gHash: nil)
        #expect(custody.witnessScript.bytes.count == g.witnessScript.bytes.count - 34)
        #expect(try GatewayScript(parsing: custody.witnessScript) == custody)
        #expect(custody.recovery.sequence == 1008)
    }

    @Test func gatewayParserRejectsVariants() throws {
        let g = try gateway(gHash: [UInt8](repeating: 0x22, count: 32))
        var extra = g.witnessScript
        extra.append(.op(.nop))
        #expect(throws: BitcoinError.self) { try GatewayScript(parsing: extra) }
        var bytes = g.witnessScript.bytes
        bytes[bytes.count - 3] = 0x54  // k = 4 with 3 keys
        #expect(throws: BitcoinError.self) { try GatewayScript(parsing: Script(bytes)) }
        #expect(throws: BitcoinError.self) { try GatewayScript(parsing: Script(Array(g.witnessScript.bytes.dropLast()))) }
        #expect(throws: BitcoinError.self) { try RecoveryPolicy(threshold: 4, keys: [testKey(1).publicKey]) }
        #expect(throws: BitcoinError.self) { try RecoveryPolicy(delayBlocks: 0, threshold: 1, keys: [testKey(1).publicKey]) }
        #expect(throws: BitcoinError.self) { try RecoveryPolicy(delayBlocks: 70_000, threshold: 1, keys: [testKey(1).publicKey]) }
    }

    @Test func renVMLegacyGatewayIsByteExact() throws {
        let gHash = [UInt8](repeating: 0x33, count: 32)
        let key = testKey(2).publicKey
        let legacy = try LegacyGatewayScript(gHash: gHash, shardKey: key)
        let expected: [UInt8] = [0x20] + gHash + [0x75, 0x76, 0xA9, 0x14] + BitcoinHash.hash160(key.compressed) + [0x88, 0xAC]
        #expect(legacy.redeemScript.bytes == expected)
        #expect(expected.count == 59)
        #expect(legacy.scriptPubKey.bytes == [0xA9, 0x14] + BitcoinHash.hash160(expected) + [0x87])
        #expect(legacy.address(network: .mainnet).hasPrefix("3"))
        #expect(legacy.address(network: .testnet).hasPrefix("2"))
        #expect(try Destination(address: legacy.address(network: .mainnet), network: .mainnet) == .p2sh(BitcoinHash.hash160(expected)))
    }
}
