import Crypto
import Synchronization

/// The `/dev/attestation` file operations Gramine's platform needs. `PosixGramineFiles` does them on the real
/// pseudo-files; tests use a fake that plays Gramine (a quote that carries whatever `user_report_data` holds).
public protocol GramineAttestationFiles: Sendable {
    func read(_ path: String, lengthMax: Int) throws(EnclaveError) -> [UInt8]
    func write(_ path: String, _ bytes: [UInt8]) throws(EnclaveError)
}

/// Gramine's pseudo-files, through plain POSIX calls.
public struct PosixGramineFiles: GramineAttestationFiles {
    public init() {}
    public func read(_ path: String, lengthMax: Int) throws(EnclaveError) -> [UInt8] { try PlatformFiles.read(path, lengthMax: lengthMax) }
    public func write(_ path: String, _ bytes: [UInt8]) throws(EnclaveError) { try PlatformFiles.write(path, bytes) }
}

/// An Intel SGX enclave under Gramine, through its `/dev/attestation` pseudo-files (attestation.md §6.2).
///
/// - Measurement: MRENCLAVE, the first 32 bytes of `my_target_info`; the signer (MRSIGNER) comes from `report`.
/// - Evidence: write the 64 report-data bytes to `user_report_data`, then read `quote` (a DCAP v3 quote).
/// - Sealing keys: Gramine's `keys/_sgx_mrenclave` and `keys/_sgx_mrsigner`, 16-byte keys that SGX's EGETKEY
///   derives from the CPU's fused secret and the enclave identity (the MRSIGNER key also binds ISVPRODID and
///   ISVSVN, so an older signed build cannot derive a newer one's key). They are stretched to 256 bits with
///   HKDF-SHA256 and a domain string, so the raw Gramine key is never used directly.
public struct GramineSGXPlatform: EnclavePlatform {
    public static let defaultRoot = "/dev/attestation"
    /// DCAP v3 quotes with their PEM chain are about 5 KiB; Gramine suggests an 8 KiB buffer. 64 KiB is ample.
    public static let quoteBytesMax = 64 * 1024
    static let targetInfoLength = 512
    static let reportLength = 432
    static let sealingSalt: [UInt8] = Array("darknode/sgx-sealing/v1".utf8)

    public var kind: EnclavePlatformKind { .sgxGramine }
    public var reportDataSize: Int { 64 }
    public let root: String
    /// MRENCLAVE.
    public let measurement: [UInt8]
    /// MRSIGNER: the hash of the enclave signing key.
    public let signer: [UInt8]

    let files: any GramineAttestationFiles

    public init(root: String = defaultRoot, files: any GramineAttestationFiles = PosixGramineFiles()) throws(EnclaveError) {
        self.files = files
        let type = PlatformFiles.text(try files.read(PlatformFiles.join(root, "attestation_type"), lengthMax: 64))
        guard type == "dcap" else { throw .unsupportedAttestationType(type) }
        let targetInfo = try files.read(PlatformFiles.join(root, "my_target_info"), lengthMax: 4096)
        guard targetInfo.count == GramineSGXPlatform.targetInfoLength else {
            throw .evidenceMalformed(reason: "my_target_info is \(targetInfo.count) bytes, expected 512")
        }
        let report = try files.read(PlatformFiles.join(root, "report"), lengthMax: 4096)
        guard report.count == GramineSGXPlatform.reportLength else {
            throw .evidenceMalformed(reason: "report is \(report.count) bytes, expected 432")
        }
        guard Array(report[64..<96]) == Array(targetInfo[0..<32]) else {
            throw .evidenceMalformed(reason: "report and my_target_info name different enclaves")
        }
        self.root = root
        self.measurement = Array(targetInfo[0..<32])
        self.signer = Array(report[128..<160])
    }

    /// Gramine keeps one `user_report_data` per enclave process: between one request's write and its quote read,
    /// another request's write would put *its* report data under the first one's quote. Every platform value in the
    /// process shares this lock (a process has one `/dev/attestation`).
    static let deviceLock = Mutex(())

    public func evidence(reportData: [UInt8]) throws(EnclaveError) -> PlatformEvidence {
        guard reportData.count == reportDataSize else {
            throw .invalidReportDataLength(expected: reportDataSize, actual: reportData.count)
        }
        // The report data must be written before the quote is read, or the quote carries stale data; and the two
        // are one critical section.
        let files = self.files, root = self.root
        let quote = try GramineSGXPlatform.deviceLock.withLock { _ throws(EnclaveError) -> [UInt8] in
            try files.write(PlatformFiles.join(root, "user_report_data"), reportData)
            return try files.read(PlatformFiles.join(root, "quote"), lengthMax: GramineSGXPlatform.quoteBytesMax)
        }
        return PlatformEvidence(kind: .sgxGramine, bytes: quote)
    }

    public func sealingKey(policy: SealingPolicy) throws(EnclaveError) -> SymmetricKey {
        let name = policy == .measurement ? "_sgx_mrenclave" : "_sgx_mrsigner"
        let key = try files.read(PlatformFiles.join(root, "keys/" + name), lengthMax: 64)
        guard key.count == 16 else { throw .sealingKeyUnavailable(reason: "keys/\(name) is \(key.count) bytes, expected 16") }
        return HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: key), salt: GramineSGXPlatform.sealingSalt,
            info: Array("darknode/sealing/\(policy.rawValue)".utf8), outputByteCount: 32)
    }
}
