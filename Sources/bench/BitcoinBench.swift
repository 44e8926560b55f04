import Bitcoin
import Foundation
import Secp256k1

/// Bitcoin figures: BIP143 sighashes for a 100-input release (what the MPC network signs per release), legacy
/// sighash on the same transaction as the O(n²) peer, and header-chain verification on real mainnet headers,
/// beside raw dSHA256 of the same headers (the floor any verifier pays).
func benchBitcoin(_ h: inout Harness) {
    print("== bitcoin ==")
    let shard = try! PrivateKey(bytes: [UInt8](repeating: 0x11, count: 32))
    let recoveryKeys = (1...3).map { try! PrivateKey(bytes: [UInt8](repeating: UInt8(0x20 + $0), count: 32)).publicKey }
    let recovery = try! RecoveryPolicy(threshold: 2, keys: recoveryKeys)
    let coins = (0..<100).map { i -> GatewayCoin in
        let gHash = Keccak256.hash([UInt8(i)])
        let script = try! GatewayScript(gHash: gHash, shardKey: shard.publicKey, recovery: recovery)
        return GatewayCoin(outpoint: OutPoint(txid: BitcoinHash.sha256([UInt8(i)]), index: 0), value: 1_000_000, script: script)
    }
    let custody = try! GatewayScript(gHash: nil, shardKey: shard.publicKey, recovery: recovery)
    let release = try! GatewaySpend.release(coins: coins, payments: [(.p2wpkh([UInt8](repeating: 1, count: 20)), 50_000_000)],
                                            change: custody, feeRate: FeeRate(satoshisPerVirtualByte: 5))
    h.measure("BIP143 sighashes, 100-input release (per tx)", iterations: 20) {
        for _ in 0..<20 { blackHole(release.sighashes()) }
    }
    let tx = release.transaction
    let scriptCode = coins[0].script.witnessScript
    h.measure("legacy sighashes, same 100-input tx (per tx)", iterations: 2) {
        for _ in 0..<2 {
            for i in 0..<100 { blackHole(try! LegacySighash.sighash(transaction: tx, inputIndex: i, scriptCode: scriptCode, type: .all)) }
        }
    }
    h.ratio("BIP143 sighashes, 100-input release (per tx)", "legacy sighashes, same 100-input tx (per tx)")

    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Fixtures/bitcoin/headers/mainnet_822528-830592.bin")
    guard let data = try? Data(contentsOf: url), let headers = try? BlockHeader.parseConcatenated([UInt8](data)) else {
        print("  (headers file not found at \(url.path); header benchmark skipped)")
        return
    }
    let checkpoint = ChainCheckpoint(header: headers[0], height: 822528, periodStartTime: headers[0].time)
    let rest = Array(headers.dropFirst())
    h.measure("header-chain verification, 8064 mainnet headers (per header)", iterations: rest.count * 3) {
        for _ in 0..<3 {
            var chain = HeaderChainVerifier(parameters: .mainnet, checkpoint: checkpoint)
            try! chain.append(contentsOf: rest)
            blackHole(chain.tipHash)
        }
    }
    let raw = rest.map(\.serialized)
    h.measure("dSHA256 of one 80-byte header (floor)", iterations: raw.count * 3) {
        for _ in 0..<3 { for r in raw { blackHole(BitcoinHash.sha256d(r)) } }
    }
    h.ratio("header-chain verification, 8064 mainnet headers (per header)", "dSHA256 of one 80-byte header (floor)")
}
