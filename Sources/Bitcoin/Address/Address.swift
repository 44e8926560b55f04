/// A payment destination decoded from an address: what a release pays to.
public enum Destination: Hashable, Sendable {
    case p2pkh([UInt8])
    case p2sh([UInt8])
    case p2wpkh([UInt8])
    case p2wsh([UInt8])
    case p2tr([UInt8])
    /// A future witness version (2…16) or unusual length; BIP350 says wallets should still be able to pay it.
    case witness(version: Int, program: [UInt8])

    /// The output script that pays this destination.
    public var scriptPubKey: Script {
        switch self {
        case .p2pkh(let h): return .p2pkh(h)
        case .p2sh(let h): return .p2sh(h)
        case .p2wpkh(let h): return .witness(version: 0, program: h)
        case .p2wsh(let h): return .witness(version: 0, program: h)
        case .p2tr(let k): return .witness(version: 1, program: k)
        case .witness(let v, let p): return .witness(version: v, program: p)
        }
    }

    /// Decodes a Base58Check or segwit address and checks it belongs to `network`.
    public init(address: String, network: Network) throws(BitcoinError) {
        let lower = address.lowercased()
        if lower.hasPrefix(network.bech32HRP + "1") {
            let (hrp, version, program) = try SegwitAddress.decode(address)
            guard hrp == network.bech32HRP else { throw .wrongNetwork(expected: network.bech32HRP, found: hrp) }
            switch (version, program.count) {
            case (0, 20): self = .p2wpkh(program)
            case (0, 32): self = .p2wsh(program)
            case (1, 32): self = .p2tr(program)
            default: self = .witness(version: version, program: program)
            }
            return
        }
        if let sep = lower.lastIndex(of: "1"), ["bc", "tb", "bcrt"].contains(String(lower[..<sep])) {
            throw .wrongNetwork(expected: network.bech32HRP, found: String(lower[..<sep]))
        }
        let (version, payload) = try Base58Address.decode(address)
        guard payload.count == 20 else { throw .invalidBase58("payload of \(payload.count) bytes") }
        switch version {
        case network.pubKeyHashVersion: self = .p2pkh(payload)
        case network.scriptHashVersion: self = .p2sh(payload)
        case 0x00, 0x05, 0x6F, 0xC4: throw .wrongNetwork(expected: network.rawValue, found: "version byte \(version)")
        default: throw .unknownAddressPrefix("version byte \(version)")
        }
    }

    /// The address string for this destination on `network`.
    public func address(network: Network) -> String {
        switch self {
        case .p2pkh(let h): return Base58Address.encode(version: network.pubKeyHashVersion, payload: h)
        case .p2sh(let h): return Base58Address.encode(version: network.scriptHashVersion, payload: h)
        case .p2wpkh(let p), .p2wsh(let p): return try! SegwitAddress.encode(network: network, version: 0, program: p)
        case .p2tr(let p): return try! SegwitAddress.encode(network: network, version: 1, program: p)
        case .witness(let v, let p): return try! SegwitAddress.encode(network: network, version: v, program: p)
        }
    }
}
