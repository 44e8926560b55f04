import Secp256k1

/// Thin names over Secp256k1's BitcoinHash, so call sites in this module read as Bitcoin does.
enum BitcoinHashes {
    static func sha256(_ b: [UInt8]) -> [UInt8] { BitcoinHash.sha256(b) }
    static func sha256d(_ b: [UInt8]) -> [UInt8] { BitcoinHash.sha256d(b) }
    static func hash160(_ b: [UInt8]) -> [UInt8] { BitcoinHash.hash160(b) }
}
