// Goal: every BIP173 and BIP350 vector classifies as the BIPs say, and every address kind round-trips.
// Method: the transcribed vectors in Tests/Fixtures/bitcoin/bech32, plus known Base58 addresses.
import Bitcoin
import Foundation
import Secp256k1
import Testing
import TestSupport

@Suite(.dedicatedThread) struct AddressTests {
    func vectors() throws -> [String: Any] { try jsonObject("bitcoin/bech32/bip173_bip350_vectors.json", as: [String: Any].self) }

    func string(_ entry: [String: Any], _ key: String = "string") -> String {
        if let h = entry["bytes_hex"] as? String { return String(decoding: hex(h), as: UTF8.self) }
        return entry[key] as! String
    }

    @Test func bech32Strings() throws {
        let v = try vectors()
        let b173 = v["bip173"] as! [String: Any], b350 = v["bip350"] as! [String: Any]
        for e in b173["valid_bech32"] as! [[String: Any]] {
            #expect(try Bech32.decode(string(e)).encoding == .bech32, "\(e)")
        }
        for e in b350["valid_bech32m"] as! [[String: Any]] {
            #expect(try Bech32.decode(string(e)).encoding == .bech32m, "\(e)")
        }
        for e in (b173["invalid_bech32"] as! [[String: Any]]) {
            let r = try? Bech32.decode(string(e))
            #expect(r == nil || r!.encoding != .bech32, "\(e)")
        }
        for e in (b350["invalid_bech32m"] as! [[String: Any]]) {
            let r = try? Bech32.decode(string(e))
            #expect(r == nil || r!.encoding != .bech32m, "\(e)")
        }
    }

    @Test func segwitAddresses() throws {
        let v = try vectors()
        let b350 = v["bip350"] as! [String: Any], b173 = v["bip173"] as! [String: Any]
        var checked = 0
        for e in b350["valid_segwit_addresses"] as! [[String: Any]] {
            let address = e["address"] as! String
            let (hrp, version, program) = try SegwitAddress.decode(address)
            #expect(hrp == e["hrp"] as! String)
            #expect(Script.witness(version: version, program: program).bytes == hex(e["script_pubkey"] as! String))
            #expect(try SegwitAddress.encode(hrp: hrp, version: version, program: program) == address.lowercased())
            checked += 1
        }
        for e in (b350["invalid_segwit_addresses"] as! [[String: Any]]) + (b173["invalid_segwit_addresses"] as! [[String: Any]]) {
            let address = string(e, "address")
            let hrpOK = (try? SegwitAddress.decode(address)).map { ["bc", "tb"].contains($0.hrp) } ?? false
            #expect(!hrpOK, "\(address) must be rejected")
        }
        for e in b173["valid_segwit_addresses"] as! [[String: Any]] where (e["superseded_by_bip350"] as? Bool) == true {
            #expect(throws: BitcoinError.self) { try SegwitAddress.decode(e["address"] as! String) }
        }
        #expect(checked == 8)
    }

    @Test func destinationsForEveryKindAndNetwork() throws {
        // Known mainnet addresses: the genesis coinbase key's P2PKH, a BIP16 example P2SH, BIP173/BIP350 examples.
        #expect(try Destination(address: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", network: .mainnet) == .p2pkh(hex("62e907b15cbf27d5425399ebf6f0fb50ebb88f18")))
        #expect(try Destination(address: "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", network: .mainnet) == .p2wpkh(hex("751e76e8199196d454941c45d1b3a323f1433bd6")))
        let tr = try Destination(address: "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", network: .mainnet)
        #expect(tr.scriptPubKey.bytes == hex("512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"))
        let wsh = try Destination(address: "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", network: .testnet)
        #expect(wsh == .p2wsh(hex("1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262")))
        for network in Network.allCases {
            for d: Destination in [.p2pkh([UInt8](repeating: 1, count: 20)), .p2sh([UInt8](repeating: 2, count: 20)),
                                   .p2wpkh([UInt8](repeating: 3, count: 20)), .p2wsh([UInt8](repeating: 4, count: 32)),
                                   .p2tr([UInt8](repeating: 5, count: 32))] {
                let address = d.address(network: network)
                #expect(try Destination(address: address, network: network) == d, "\(address)")
            }
        }
        #expect(throws: BitcoinError.self) { try Destination(address: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", network: .testnet) }
        #expect(throws: BitcoinError.self) { try Destination(address: "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", network: .regtest) }
        #expect(throws: BitcoinError.self) { try Destination(address: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", network: .mainnet) }
        #expect(throws: BitcoinError.self) { try Destination(address: "", network: .mainnet) }
        #expect(throws: BitcoinError.self) { try Destination(address: "0OIl", network: .mainnet) }
    }
}
