/// The Bitcoin networks we address, with their address prefixes (Core's chainparams.cpp).
public enum Network: String, CaseIterable, Sendable {
    case mainnet, testnet, signet, regtest

    /// BIP173 human-readable part. Signet shares testnet's.
    public var bech32HRP: String {
        switch self {
        case .mainnet: return "bc"
        case .testnet, .signet: return "tb"
        case .regtest: return "bcrt"
        }
    }

    public var pubKeyHashVersion: UInt8 { self == .mainnet ? 0x00 : 0x6F }
    public var scriptHashVersion: UInt8 { self == .mainnet ? 0x05 : 0xC4 }

    /// Parses "mainnet"/"main"/"bitcoin", "testnet"/"test", "signet", "regtest".
    public init?(name: String) {
        switch name.lowercased() {
        case "mainnet", "main", "bitcoin": self = .mainnet
        case "testnet", "test", "testnet3": self = .testnet
        case "signet": self = .signet
        case "regtest": self = .regtest
        default: return nil
        }
    }
}
