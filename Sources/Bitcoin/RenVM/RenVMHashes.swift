import Secp256k1

/// RenVM's deposit and mint hashes, byte-exact with ren-js v3 `renVMHashes` and gateway-sol `RenVMHashes`
/// (docs/bitcoin.md). All are Keccak-256 over plain concatenation of fixed-width fields, which for these fields
/// equals Solidity's `abi.encode`.
public enum RenVMHashes {
    /// pHash = keccak256(payload).
    public static func pHash(payload: [UInt8]) -> [UInt8] { Keccak256.hash(payload) }

    /// sHash = keccak256("ASSET/toCHAIN"). A selector "ASSET/fromXToY" (burn-and-mint) is normalised to
    /// "ASSET/toY" first, as ren-js does.
    public static func sHash(selector: String) -> [UInt8] { Keccak256.hash(Array(normalizedSelector(selector).utf8)) }

    public static func sHash(asset: String, toChain chain: String) -> [UInt8] { sHash(selector: "\(asset)/to\(chain)") }

    static func normalizedSelector(_ selector: String) -> String {
        guard let slash = selector.firstIndex(of: "/") else { return selector }
        let asset = selector[..<slash], rest = selector[selector.index(after: slash)...]
        guard rest.hasPrefix("from") else { return selector }
        let chars = Array(rest)
        // The destination follows the last "To" (chain names are CamelCase words, e.g. fromSolanaToEthereum).
        guard let split = stride(from: chars.count - 2, through: 4, by: -1).first(where: { chars[$0] == "T" && chars[$0 + 1] == "o" }) else {
            return selector
        }
        return "\(asset)/to\(String(chars[(split + 2)...]))"
    }

    /// gHash = keccak256(pHash ‖ sHash ‖ to ‖ nonce). `to` is the recipient's bytes (a 20-byte EVM address).
    public static func gHash(pHash: [UInt8], sHash: [UInt8], to: [UInt8], nonce: [UInt8]) throws(BitcoinError) -> [UInt8] {
        try check(pHash, 32, "pHash"); try check(sHash, 32, "sHash"); try check(nonce, 32, "nonce")
        return Keccak256.hash(pHash + sHash + to + nonce)
    }

    /// nHash = keccak256(nonce ‖ txid ‖ uint32_be(vout)), txid in internal byte order (display hex reversed).
    public static func nHash(nonce: [UInt8], txid: [UInt8], outputIndex: UInt32) throws(BitcoinError) -> [UInt8] {
        try check(nonce, 32, "nonce"); try check(txid, 32, "txid")
        return Keccak256.hash(nonce + txid + bigEndian(UInt64(outputIndex), width: 4))
    }

    /// The digest a MintGateway recovers the signer from (`ECDSA.recover(sigHash, sig) == mintAuthority`):
    /// keccak256(abi.encode(bytes32 pHash, uint256 amount, bytes32 sHash, address to, bytes32 nHash)).
    public static func mintDigest(pHash: [UInt8], amount: UInt64, sHash: [UInt8], to: [UInt8], nHash: [UInt8]) throws(BitcoinError) -> [UInt8] {
        try check(pHash, 32, "pHash"); try check(sHash, 32, "sHash"); try check(to, 20, "to"); try check(nHash, 32, "nHash")
        let amountWord = [UInt8](repeating: 0, count: 24) + bigEndian(amount, width: 8)
        let toWord = [UInt8](repeating: 0, count: 12) + to
        return Keccak256.hash(pHash + amountWord + sHash + toWord + nHash)
    }

    /// Signs the mint digest as an EVM contract expects: 65 bytes r‖s‖v with v = 27 + recovery id, low-S.
    public static func signMint(digest: [UInt8], key: PrivateKey) throws -> [UInt8] {
        try key.recoverableSignature(for: digest).evm
    }

    static func check(_ b: [UInt8], _ n: Int, _ name: String) throws(BitcoinError) {
        guard b.count == n else { throw .invalidRenVMParameter("\(name) must be \(n) bytes, got \(b.count)") }
    }

    static func bigEndian(_ v: UInt64, width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64(width - 1 - $0))) }
    }
}
