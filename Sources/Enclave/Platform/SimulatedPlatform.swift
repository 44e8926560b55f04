import Attestation
import Crypto
import Logging
import Secp256k1

/// A stand-in TEE for development and CI. It offers the same interface as the hardware platforms and protects
/// nothing: its "hardware" secrets are files in the data directory.
///
/// - Measurement: SHA-256 of the running executable (`/proc/self/exe`), or a value given by tests.
/// - Platform key and root secret: generated once per machine directory and kept there (mode 0600), so two data
///   directories behave as two machines.
/// - Evidence: `SimulatedEvidence` signed by the platform key.
/// - Sealing keys: HKDF-SHA256 of the root secret with the measurement or the release signer.
public struct SimulatedPlatform: EnclavePlatform {
    public static let platformKeyFileName = "platform-key"
    public static let rootSecretFileName = "root-secret"
    /// The release signer used when none is configured: a fixed, public value, as insecure as the rest.
    public static let defaultReleaseSigner: [UInt8] = Array(SHA256.hash(data: Array("darknode/simulated-release-signer/v1".utf8)))
    static let sealingSalt: [UInt8] = Array("darknode/simulated-sealing/v1".utf8)

    public var kind: EnclavePlatformKind { .simulated }
    public var reportDataSize: Int { 64 }
    public let measurement: [UInt8]
    /// The 32-byte identity that `.signer` sealing keys are bound to.
    public let releaseSigner: [UInt8]
    /// The simulated platform key's public half (what verifiers see in the evidence).
    public var platformPublicKey: PublicKey { platformKey.publicKey }

    let platformKey: PrivateKey
    let rootSecret: SymmetricKey

    /// Opens (or creates, on first use) the simulated machine kept in `machineDirectory`.
    ///
    /// - Parameters:
    ///   - measurement: overrides the executable hash (tests simulate a second binary with it).
    ///   - logger: receives the start-up warning that this enclave is insecure.
    public init(
        machineDirectory: String, measurement: [UInt8]? = nil, releaseSigner: [UInt8] = defaultReleaseSigner,
        logger: Logger
    ) throws(EnclaveError) {
        let measured: [UInt8]
        if let measurement { measured = measurement } else { measured = try SimulatedPlatform.executableMeasurement() }
        guard measured.count == 32 else { throw .invalidMeasurementLength(measured.count) }
        guard releaseSigner.count == 32 else { throw .invalidSignerLength(releaseSigner.count) }
        try PlatformFiles.makeDirectories(machineDirectory)
        let keyPath = PlatformFiles.join(machineDirectory, SimulatedPlatform.platformKeyFileName)
        let secretPath = PlatformFiles.join(machineDirectory, SimulatedPlatform.rootSecretFileName)
        let keyBytes = try SimulatedPlatform.loadOrCreateSecret(at: keyPath) { PrivateKey.generate().bytes }
        guard let key = try? PrivateKey(bytes: keyBytes) else { throw .simulatedSecretInvalid(path: keyPath) }
        let secret = try SimulatedPlatform.loadOrCreateSecret(at: secretPath) {
            SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        }
        self.measurement = measured
        self.releaseSigner = releaseSigner
        self.platformKey = key
        self.rootSecret = SymmetricKey(data: secret)
        logger.warning(
            "INSECURE simulated enclave: no hardware protects this node's keys or data; for development and tests only",
            metadata: [
                "measurement": "\(Hex.encode(measured))",
                "platformKey": "\(Hex.encode(key.publicKey.compressed))",
            ])
    }

    public func evidence(reportData: [UInt8]) throws(EnclaveError) -> PlatformEvidence {
        guard reportData.count == reportDataSize else {
            throw .invalidReportDataLength(expected: reportDataSize, actual: reportData.count)
        }
        do {
            let signed = try SimulatedEvidence.sign(measurement: measurement, reportData: reportData, platformKey: platformKey)
            return PlatformEvidence(kind: .simulated, bytes: signed.encoded)
        } catch {
            throw .evidenceMalformed(reason: "simulated evidence: \(error)")
        }
    }

    public func sealingKey(policy: SealingPolicy) throws(EnclaveError) -> SymmetricKey {
        let identity = policy == .measurement ? measurement : releaseSigner
        let info = Array("darknode/sealing/\(policy.rawValue)/".utf8) + identity
        return HKDF<SHA256>.deriveKey(
            inputKeyMaterial: rootSecret, salt: SimulatedPlatform.sealingSalt, info: info, outputByteCount: 32)
    }

    /// SHA-256 of the running executable, read through `/proc/self/exe` (argv[0] is chosen by the caller).
    public static func executableMeasurement(path: String = "/proc/self/exe") throws(EnclaveError) -> [UInt8] {
        var hasher = SHA256()
        try PlatformFiles.forEachChunk(of: path) { hasher.update(data: $0) }
        return Array(hasher.finalize())
    }

    private static func loadOrCreateSecret(at path: String, generate: () -> [UInt8]) throws(EnclaveError) -> [UInt8] {
        if PlatformFiles.exists(path) {
            let bytes = try PlatformFiles.read(path, lengthMax: 32)
            guard bytes.count == 32 else { throw .simulatedSecretInvalid(path: path) }
            return bytes
        }
        let bytes = generate()
        try PlatformFiles.createSecretFile(path, bytes)
        return bytes
    }
}
