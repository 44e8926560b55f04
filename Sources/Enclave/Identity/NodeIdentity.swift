import Crypto
import Secp256k1

/// The node's long-term secp256k1 identity key. It is created once, inside the enclave, and kept only in the
/// sealed store; its public half goes into the report data of every piece of evidence the node produces.
public struct NodeIdentity: Sendable {
    public static let table = "node"
    public static let rowKey: [UInt8] = Array("identity/secp256k1".utf8)

    public let privateKey: PrivateKey
    public var publicKey: PublicKey { privateKey.publicKey }

    init(privateKey: PrivateKey) {
        self.privateKey = privateKey
    }

    /// Why the identity could not be created or loaded.
    public enum Failure: Error, Equatable, Sendable {
        /// `create` found an identity already in the store (a node never replaces its key silently).
        case alreadyExists
        /// The store holds no identity: the data directory was not initialised.
        case missing
        /// The stored identity is not a valid secp256k1 private key.
        case invalid
    }

    /// Generates a new identity with the system CSPRNG and stores it sealed.
    public static func create(in store: SealedStore) throws -> NodeIdentity {
        guard try store.value(table: table, key: rowKey) == nil else { throw Failure.alreadyExists }
        let key = PrivateKey.generate()
        try store.put(table: table, key: rowKey, value: key.bytes)
        return NodeIdentity(privateKey: key)
    }

    public static func load(from store: SealedStore) throws -> NodeIdentity {
        guard let bytes = try store.value(table: table, key: rowKey) else { throw Failure.missing }
        guard let key = try? PrivateKey(bytes: bytes) else { throw Failure.invalid }
        return NodeIdentity(privateKey: key)
    }

    /// Evidence from `platform` binding this identity and `nonce` (see `IdentityReportData`).
    public func evidence(platform: any EnclavePlatform, nonce: [UInt8]) throws(EnclaveError) -> NodeEvidence {
        let reportData = try IdentityReportData.reportData(identityKey: publicKey, nonce: nonce, size: platform.reportDataSize)
        let evidence = try platform.evidence(reportData: reportData)
        return NodeEvidence(
            platform: evidence.kind, measurement: platform.measurement, identityKey: publicKey, nonce: nonce,
            reportData: reportData, evidence: evidence.bytes)
    }
}

/// Evidence as a node hands it to a verifier, with what the verifier needs to recompute the report data.
public struct NodeEvidence: Sendable, Equatable {
    public let platform: EnclavePlatformKind
    /// The measurement the platform reported at start-up (the verifier reads it from `evidence`, not from here).
    public let measurement: [UInt8]
    public let identityKey: PublicKey
    public let nonce: [UInt8]
    public let reportData: [UInt8]
    /// The platform's native evidence bytes.
    public let evidence: [UInt8]
}
