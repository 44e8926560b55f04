import Crypto

/// The file operations configfs-tsm needs. `LinuxTSMReportFileSystem` does them on the real mount; tests use a
/// fake that plays the kernel's part (creating attributes on `mkdir`, counting generations) over a temporary tree.
public protocol TSMReportFileSystem: Sendable {
    /// `mkdir`: the kernel creates the entry's attribute files.
    func makeEntry(_ path: String) throws(EnclaveError)
    /// `rmdir`: the kernel drops the entry.
    func removeEntry(_ path: String) throws(EnclaveError)
    func read(_ path: String, lengthMax: Int) throws(EnclaveError) -> [UInt8]
    func write(_ path: String, _ bytes: [UInt8]) throws(EnclaveError)
}

/// configfs-tsm on a Linux guest (kernel ≥ 6.7 with `CONFIG_TSM_REPORTS`).
public struct LinuxTSMReportFileSystem: TSMReportFileSystem {
    public init() {}
    public func makeEntry(_ path: String) throws(EnclaveError) { try PlatformFiles.makeDirectory(path) }
    public func removeEntry(_ path: String) throws(EnclaveError) { try PlatformFiles.removeDirectory(path) }
    public func read(_ path: String, lengthMax: Int) throws(EnclaveError) -> [UInt8] {
        try PlatformFiles.read(path, lengthMax: lengthMax)
    }
    public func write(_ path: String, _ bytes: [UInt8]) throws(EnclaveError) { try PlatformFiles.write(path, bytes) }
}

/// Intel TDX and AMD SEV-SNP confidential VMs through the kernel's configfs-tsm report interface
/// (attestation.md §6.1). `tdx_guest` returns a full DCAP quote; `sev_guest` returns the 1184-byte SNP report.
///
/// Each request uses its own entry directory: `mkdir` → read `provider` and `generation` → write the 64-byte
/// `inblob` → read `outblob` → check that `generation` rose by exactly one (else another writer raced us) → `rmdir`.
///
/// configfs-tsm has no key-derivation interface, so sealing keys come from a `SealingKeySource` (see
/// docs/enclave.md: a key provisioned after attestation, since TDX has no hardware sealing key at all).
public struct ConfigfsTSMPlatform: EnclavePlatform {
    public static let defaultReportRoot = "/sys/kernel/config/tsm/report"
    /// The kernel refuses (EFBIG) blobs above its internal 32 KiB limit.
    public static let outblobBytesMax = 32 * 1024

    public let kind: EnclavePlatformKind
    public let measurement: [UInt8]
    public var reportDataSize: Int { 64 }
    public let reportRoot: String
    let fileSystem: any TSMReportFileSystem
    let sealingKeySource: any SealingKeySource

    /// Probes the platform with one report over zero report data, to learn the provider and this VM's measurement.
    public init(
        reportRoot: String = defaultReportRoot, fileSystem: any TSMReportFileSystem = LinuxTSMReportFileSystem(),
        sealingKeySource: any SealingKeySource
    ) throws(EnclaveError) {
        let probe = try ConfigfsTSMPlatform.generate(
            reportRoot: reportRoot, fileSystem: fileSystem, reportData: [UInt8](repeating: 0, count: 64))
        self.kind = probe.kind
        self.measurement = try NativeEvidenceFields(kind: probe.kind, bytes: probe.bytes).measurement
        self.reportRoot = reportRoot
        self.fileSystem = fileSystem
        self.sealingKeySource = sealingKeySource
    }

    public func evidence(reportData: [UInt8]) throws(EnclaveError) -> PlatformEvidence {
        // TDX rejects an inblob that is not exactly 64 bytes; SNP would zero-pad. Require 64 for both.
        guard reportData.count == reportDataSize else {
            throw .invalidReportDataLength(expected: reportDataSize, actual: reportData.count)
        }
        let evidence = try ConfigfsTSMPlatform.generate(reportRoot: reportRoot, fileSystem: fileSystem, reportData: reportData)
        guard evidence.kind == kind else { throw .providerChanged(expected: kind, actual: evidence.kind) }
        return evidence
    }

    public func sealingKey(policy: SealingPolicy) throws(EnclaveError) -> SymmetricKey {
        try sealingKeySource.sealingKey(policy: policy, kind: kind, measurement: measurement)
    }

    static func generate(reportRoot: String, fileSystem: any TSMReportFileSystem, reportData: [UInt8])
        throws(EnclaveError) -> PlatformEvidence
    {
        let entry = PlatformFiles.join(reportRoot, PlatformFiles.uniqueEntryName(prefix: "darknode"))
        try fileSystem.makeEntry(entry)
        defer { try? fileSystem.removeEntry(entry) }
        let kind = try provider(PlatformFiles.text(fileSystem.read(PlatformFiles.join(entry, "provider"), lengthMax: 256)))
        let before = try generation(fileSystem, entry: entry)
        try fileSystem.write(PlatformFiles.join(entry, "inblob"), reportData)
        let outblob = try fileSystem.read(PlatformFiles.join(entry, "outblob"), lengthMax: outblobBytesMax)
        let after = try generation(fileSystem, entry: entry)
        guard after == before + 1 else { throw .generationMismatch(expected: before + 1, actual: after) }
        guard !outblob.isEmpty else { throw .evidenceMalformed(reason: "empty outblob") }
        return PlatformEvidence(kind: kind, bytes: outblob)
    }

    static func provider(_ name: String) throws(EnclaveError) -> EnclavePlatformKind {
        switch name {
        case "tdx_guest": .tdx
        case "sev_guest": .sevSNP
        default: throw .unsupportedProvider(name)
        }
    }

    static func generation(_ fileSystem: any TSMReportFileSystem, entry: String) throws(EnclaveError) -> Int {
        let text = PlatformFiles.text(try fileSystem.read(PlatformFiles.join(entry, "generation"), lengthMax: 64))
        guard let value = Int(text), value >= 0 else { throw .evidenceMalformed(reason: "generation '\(text)'") }
        return value
    }
}
