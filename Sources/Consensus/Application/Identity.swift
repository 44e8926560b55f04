import Secp256k1

/// Signs consensus digests with a node identity key. Implementations must sign exactly the 32-byte digest given.
public protocol ConsensusSigner: Sendable {
    /// The identity the signatures verify under.
    var key: ValidatorKey { get }
    /// A 64-byte compact, lower-S ECDSA signature over `digest`.
    func sign(digest: [UInt8]) -> [UInt8]
}

/// Checks that a message was signed by a given key. A protocol so that drivers can share a cache: gossip delivers
/// the same bytes many times, and one verification costs about 50 µs.
public protocol MessageVerifier {
    /// True if `message.signature` verifies over `message.signedBytes` under `key`. The caller has matched `key`
    /// to `message.signer`.
    func isAuthentic(_ message: SignedMessage, key: PublicKey) -> Bool
}

/// The secp256k1 signer for a node's identity key (RFC 6979 nonces, so signing is deterministic).
public struct Secp256k1Signer: ConsensusSigner {
    private let privateKey: PrivateKey
    public let key: ValidatorKey

    public init(privateKey: PrivateKey) {
        self.privateKey = privateKey
        self.key = ValidatorKey(privateKey.publicKey)
    }

    public func sign(digest: [UInt8]) -> [UInt8] {
        // The digest is 32 bytes by construction; signing with a valid key cannot fail.
        try! privateKey.signature(for: digest).compact
    }
}

/// Verifies every message with libsecp256k1.
public struct Secp256k1Verifier: MessageVerifier {
    public init() {}
    public func isAuthentic(_ message: SignedMessage, key: PublicKey) -> Bool { message.isSignedBy(key) }
}

/// Remembers verification results by the exact wire bytes, so identical bytes are verified once. Bounded: when
/// full it forgets everything (costs re-verification only). A class so one cache can serve several replicas in a
/// simulation; it is not thread-safe, like the replicas that use it.
public final class CachingVerifier: MessageVerifier {
    private var results: [[UInt8]: Bool] = [:]
    private let entriesMax: Int
    private let inner: any MessageVerifier
    public private(set) var verifications = 0
    public private(set) var hits = 0

    public init(entriesMax: Int, inner: any MessageVerifier = Secp256k1Verifier()) {
        precondition(entriesMax > 0)
        self.entriesMax = entriesMax
        self.inner = inner
    }

    public func isAuthentic(_ message: SignedMessage, key: PublicKey) -> Bool {
        let wire = message.wireBytes
        if let known = results[wire] {
            hits += 1
            return known
        }
        verifications += 1
        let ok = inner.isAuthentic(message, key: key)
        if results.count >= entriesMax { results.removeAll(keepingCapacity: true) }
        results[wire] = ok
        return ok
    }
}
