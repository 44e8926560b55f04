import Secp256k1

/// A peer's identity: its 33-byte compressed secp256k1 identity key.
///
/// Ordered by the key bytes, which gives the deterministic tie-break that keeps one connection per pair:
/// the connection dialled by the smaller identity survives.
public struct PeerID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 33-byte compressed public key.
    public let bytes: [UInt8]

    public init(_ key: PublicKey) { bytes = key.compressed }

    /// Parses 33 bytes; nil unless they are a valid compressed key.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 33, let key = try? PublicKey(encoded: bytes) else { return nil }
        self.bytes = key.compressed
    }

    public var publicKey: PublicKey { try! PublicKey(encoded: bytes) }

    /// The key bytes in one call: the synthesized hash fed them to the hasher one by one, and the mesh hashes a
    /// peer for every message it receives.
    public func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }

    public static func < (a: PeerID, b: PeerID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    /// The first 8 bytes in hex: enough to tell peers apart in logs.
    public var description: String { Hex.encode(bytes.prefix(8)) }
}
