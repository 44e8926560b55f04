import Crypto

/// Where a platform without a key-derivation interface (configfs-tsm: TDX and SEV-SNP) gets its sealing keys.
public protocol SealingKeySource: Sendable {
    /// A 256-bit key for `policy`, bound to `measurement` or to the configured release signer.
    func sealingKey(policy: SealingPolicy, kind: EnclavePlatformKind, measurement: [UInt8]) throws(EnclaveError)
        -> SymmetricKey
}

/// A 32-byte root key provisioned into the VM from outside, in a file (normally on tmpfs).
///
/// TDX has no hardware sealing key, and configfs-tsm exposes none for SNP, so the key must come from a party that
/// checks this VM's evidence first: a key-management service that releases it only to an accepted measurement,
/// or a vTPM secret unsealed at boot against the launch measurement. Keys per policy are
/// HKDF-SHA256(root key, "darknode/sealing/<policy>/" ‖ kind ‖ measurement or signer), so one provisioned root
/// still yields different keys for different builds under the measurement policy.
public struct ProvisionedKeyFileSource: SealingKeySource {
    static let salt: [UInt8] = Array("darknode/provisioned-sealing/v1".utf8)
    public let path: String
    /// The identity `.signer` keys are bound to: the hash of the release-manifest signing key.
    public let releaseSigner: [UInt8]

    public init(path: String, releaseSigner: [UInt8]) {
        self.path = path
        self.releaseSigner = releaseSigner
    }

    public func sealingKey(policy: SealingPolicy, kind: EnclavePlatformKind, measurement: [UInt8]) throws(EnclaveError)
        -> SymmetricKey
    {
        let root = try PlatformFiles.read(path, lengthMax: 32)
        guard root.count == 32 else { throw .sealingKeyUnavailable(reason: "\(path) must hold exactly 32 bytes") }
        let identity = policy == .measurement ? measurement : releaseSigner
        guard !identity.isEmpty else { throw .sealingKeyUnavailable(reason: "no release signer configured") }
        let info = Array("darknode/sealing/\(policy.rawValue)/\(kind.rawValue)/".utf8) + identity
        return HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: root), salt: ProvisionedKeyFileSource.salt, info: info,
            outputByteCount: 32)
    }
}
