import ArgumentParser
import Bitcoin
import Foundation
import Secp256k1

/// `darknode gateway`: derive Bitcoin gateway scripts and addresses, and RenVM's deposit hashes.
struct GatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Bitcoin gateway scripts and addresses (with the one-week recovery path) and RenVM hashes.",
        subcommands: [GatewayAddressCommand.self, GatewayGHashCommand.self])
}

/// Prints one JSON object with sorted keys.
private func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}

private func decodeHex(_ s: String, _ what: String, count: Int? = nil) throws -> [UInt8] {
    guard let b = Hex.decode(s.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("\(what): not hex") }
    if let count, b.count != count { throw ValidationError("\(what): expected \(count) bytes, got \(b.count)") }
    return b
}

/// `darknode gateway address`: the P2WSH gateway (or, without --ghash, custody) script and its address.
struct GatewayAddressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "address",
        abstract: "Print the gateway witness script, its P2WSH address and the parameters as JSON.")

    @Option(help: "mainnet, testnet, signet or regtest.") var network: String
    @Option(name: .customLong("shard-pubkey"), help: "The shard's compressed secp256k1 public key (hex).") var shardPubkey: String
    @Option(help: "RenVM gHash (32 bytes hex). Omit for the custody output that sweeps pay into.") var ghash: String?
    @Option(name: .customLong("recovery-keys"), help: "Comma-separated compressed recovery public keys (hex), in script order.") var recoveryKeys: String
    @Option(name: .customLong("recovery-threshold"), help: "How many recovery keys must sign (m).") var recoveryThreshold: Int
    @Option(help: "Relative timelock of the recovery branch in blocks.") var delay: Int = RecoveryPolicy.defaultDelayBlocks

    func run() throws {
        guard let net = Network(name: network) else { throw ValidationError("unknown network \(network)") }
        let shard: PublicKey
        do { shard = try PublicKey(encoded: try decodeHex(shardPubkey, "--shard-pubkey", count: 33)) } catch let e as ValidationError { throw e } catch {
            throw ValidationError("--shard-pubkey: not a valid compressed secp256k1 key")
        }
        var keys: [PublicKey] = []
        for (i, part) in recoveryKeys.split(separator: ",").enumerated() {
            let bytes = try decodeHex(String(part), "--recovery-keys[\(i)]", count: 33)
            guard let key = try? PublicKey(encoded: bytes) else { throw ValidationError("--recovery-keys[\(i)]: not a valid key") }
            keys.append(key)
        }
        let gHash = try ghash.map { try decodeHex($0, "--ghash", count: 32) }
        let script: GatewayScript
        do {
            script = try GatewayScript(gHash: gHash, shardKey: shard,
                                       recovery: RecoveryPolicy(delayBlocks: delay, threshold: recoveryThreshold, keys: keys))
        } catch { throw ValidationError("\(error)") }
        var object: [String: Any] = [
            "network": net.rawValue,
            "kind": gHash == nil ? "custody" : "gateway",
            "witnessScript": Hex.encode(script.witnessScript.bytes),
            "scriptPubKey": Hex.encode(script.scriptPubKey.bytes),
            "address": script.address(network: net),
            "shardPubkey": Hex.encode(shard.compressed),
            "recoveryKeys": keys.map { Hex.encode($0.compressed) },
            "recoveryThreshold": recoveryThreshold,
            "delayBlocks": delay,
            "recoverySequence": Int(script.recovery.sequence),
        ]
        if let gHash { object["gHash"] = Hex.encode(gHash) }
        try printJSON(object)
    }
}

/// `darknode gateway ghash`: pHash, sHash, gHash for a deposit intent, as RenVM defines them.
struct GatewayGHashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ghash",
        abstract: "Print RenVM's pHash, sHash and gHash for a lock-and-mint deposit as JSON.")

    @Option(help: "Recipient on the destination chain: a 20-byte EVM address (hex).") var to: String
    @Option(help: "32-byte nonce (hex).") var nonce: String
    @Option(help: "Payload bytes (hex, may be empty).") var payload: String = ""
    @Option(help: "Asset, e.g. BTC.") var asset: String = "BTC"
    @Option(help: "Destination chain as RenVM names it, e.g. Ethereum.") var chain: String

    func run() throws {
        let toBytes = try decodeHex(to, "--to", count: 20)
        let nonceBytes = try decodeHex(nonce, "--nonce", count: 32)
        let payloadBytes = payload.isEmpty ? [] : try decodeHex(payload, "--payload")
        let pHash = RenVMHashes.pHash(payload: payloadBytes)
        let sHash = RenVMHashes.sHash(asset: asset, toChain: chain)
        let gHash = try RenVMHashes.gHash(pHash: pHash, sHash: sHash, to: toBytes, nonce: nonceBytes)
        try printJSON([
            "selector": "\(asset)/to\(chain)",
            "to": "0x" + Hex.encode(toBytes),
            "nonce": Hex.encode(nonceBytes),
            "pHash": Hex.encode(pHash),
            "sHash": Hex.encode(sHash),
            "gHash": Hex.encode(gHash),
        ])
    }
}
