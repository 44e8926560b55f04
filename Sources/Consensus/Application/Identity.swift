import Crypto
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

/// Remembers which messages verified, by SHA-256 of their wire bytes, so identical bytes are verified once.
/// Only successes are kept: forged bytes cost a verification each time but cannot evict honest results (a cache of
/// failures would let a flood of forged packets clear it). Bounded: when full it forgets everything (costs
/// re-verification only). A class so one cache can serve several replicas in a simulation; it is not thread-safe,
/// like the replicas that use it.
public final class CachingVerifier: MessageVerifier {
    private var authentic: Set<SHA256Digest> = []
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
        let digest = SHA256.hash(data: message.wireBytes)
        if authentic.contains(digest) {
            hits += 1
            return true
        }
        verifications += 1
        guard inner.isAuthentic(message, key: key) else { return false }
        if authentic.count >= entriesMax { authentic.removeAll(keepingCapacity: true) }
        authentic.insert(digest)
        return true
    }
}
