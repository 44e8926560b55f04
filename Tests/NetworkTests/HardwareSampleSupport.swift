import Attestation
import Enclave
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import Network
import Secp256k1
import SecureChannel
import TestSupport

/// Plays the kernel's part of configfs-tsm over a temporary directory (mkdir creates the attribute files, a write
/// to `inblob` bumps `generation`) and serves one real sample from Tests/Fixtures as `outblob`, whatever report
/// data was written. It records what was written, so tests can see the node asked for the right binding.
final class SampleTSMKernel: TSMReportFileSystem {
    let provider: String
    let outblob: [UInt8]
    let written = NIOLockedValueBox<[[UInt8]]>([])

    init(provider: String, outblob: [UInt8]) {
        self.provider = provider
        self.outblob = outblob
    }

    func makeEntry(_ path: String) throws(EnclaveError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            try Data("\(provider)\n".utf8).write(to: URL(fileURLWithPath: path + "/provider"))
            try Data("7\n".utf8).write(to: URL(fileURLWithPath: path + "/generation"))
            try Data().write(to: URL(fileURLWithPath: path + "/inblob"))
            try Data(outblob).write(to: URL(fileURLWithPath: path + "/outblob"))
        } catch {
            throw .directoryFailure(path: path, reason: "\(error)")
        }
    }

    func removeEntry(_ path: String) throws(EnclaveError) {
        do { try FileManager.default.removeItem(atPath: path) } catch { throw .directoryFailure(path: path, reason: "\(error)") }
    }

    func read(_ path: String, lengthMax: Int) throws(EnclaveError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path), data.count <= lengthMax else {
            throw .fileUnreadable(path: path, reason: "missing or too large")
        }
        return Array(data)
    }

    func write(_ path: String, _ bytes: [UInt8]) throws(EnclaveError) {
        guard path.hasSuffix("/inblob") else { throw .fileUnwritable(path: path, reason: "only inblob is writable") }
        written.withLockedValue { $0.append(bytes) }
        let generationPath = String(path.dropLast("/inblob".count)) + "/generation"
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: generationPath)), as: UTF8.self)
            let current = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            try Data("\(current + 1)\n".utf8).write(to: URL(fileURLWithPath: generationPath))
        } catch {
            throw .fileUnwritable(path: path, reason: "\(error)")
        }
    }
}

/// The real samples (Tests/Fixtures/SOURCES.md) and what a node's collateral cache holds for them.
enum HardwareSample: String, CaseIterable, Sendable {
    case tdx, snp, snpDebug, sgx

    var evidencePath: String {
        switch self {
        case .tdx: "attestation/intel-tdx/tdx_quote_v4.bin"
        case .snp: "attestation/amd-sev-snp/milan_vcek_report_v2.bin"
        case .snpDebug: "attestation/amd-sev-snp/milan_vcek_report_v2_debug.bin"
        case .sgx: "attestation/intel-sgx/sgx_quote_v3.bin"
        }
    }

    var attestationPlatform: AttestationPlatform {
        switch self {
        case .tdx: .tdx
        case .snp, .snpDebug: .sevSNP
        case .sgx: .sgx
        }
    }

    /// The sample's own report data (fixed when it was captured).
    func reportData() throws -> [UInt8] {
        try Evidence.parse(try TestData.bytes(evidencePath), platform: attestationPlatform).reportData
    }

    /// Every sample's collateral, as an operator's cache directory would hold it (`CollateralDirectory` layout).
    static func collateralDirectory(in root: String) throws -> String {
        let directory = root + "/collateral"
        try FileManager.default.createDirectory(atPath: directory + "/intel", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/amd", withIntermediateDirectories: true)
        let files: [(String, String)] = [
            ("attestation/intel-tdx/tdx_quote_v4_collateral.json", "intel/tdx-sample.json"),
            ("attestation/intel-sgx/sgx_quote_v3_collateral.json", "intel/sgx-sample.json"),
            ("attestation/amd-sev-snp/milan_vcek_report_v2.vcek.der", "amd/milan-vcek.der"),
            ("attestation/amd-sev-snp/milan_vcek_report_v2_debug.vcek.der", "amd/milan-debug-vcek.der"),
        ]
        for (source, target) in files {
            try Data(try TestData.bytes(source)).write(to: URL(fileURLWithPath: directory + "/" + target))
        }
        return directory
    }

    /// An enclave platform over a fake device tree serving this sample: configfs-tsm for TDX and SNP, Gramine's
    /// `/dev/attestation` for SGX.
    func platform(in root: String) throws -> any EnclavePlatform {
        let bytes = try TestData.bytes(evidencePath)
        let base = root + "/\(rawValue)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let sealingKey = base + "/sealing.key"
        try Data((0..<32).map { UInt8($0) }).write(to: URL(fileURLWithPath: sealingKey))
        let source = ProvisionedKeyFileSource(path: sealingKey, releaseSigner: [UInt8](repeating: 0x5E, count: 32))
        switch self {
        case .tdx:
            return try ConfigfsTSMPlatform(
                reportRoot: base, fileSystem: SampleTSMKernel(provider: "tdx_guest", outblob: bytes), sealingKeySource: source)
        case .snp, .snpDebug:
            return try ConfigfsTSMPlatform(
                reportRoot: base, fileSystem: SampleTSMKernel(provider: "sev_guest", outblob: bytes), sealingKeySource: source)
        case .sgx:
            // Gramine's files are ordinary reads and writes, so a plain directory plays /dev/attestation.
            let gramine = base + "/attestation"
            try FileManager.default.createDirectory(atPath: gramine + "/keys", withIntermediateDirectories: true)
            let body = Array(bytes[48..<432])
            try Data("dcap\n".utf8).write(to: URL(fileURLWithPath: gramine + "/attestation_type"))
            try Data(Array(body[64..<96]) + [UInt8](repeating: 0, count: 480)).write(to: URL(fileURLWithPath: gramine + "/my_target_info"))
            try Data(body + [UInt8](repeating: 0, count: 48)).write(to: URL(fileURLWithPath: gramine + "/report"))
            try Data(bytes).write(to: URL(fileURLWithPath: gramine + "/quote"))
            try Data().write(to: URL(fileURLWithPath: gramine + "/user_report_data"))
            try Data([UInt8](repeating: 0x11, count: 16)).write(to: URL(fileURLWithPath: gramine + "/keys/_sgx_mrenclave"))
            try Data([UInt8](repeating: 0x22, count: 16)).write(to: URL(fileURLWithPath: gramine + "/keys/_sgx_mrsigner"))
            return try GramineSGXPlatform(root: gramine)
        }
    }
}

/// The test seam for the report-data binding. A real sample carries the report data it was captured with, which
/// no fresh handshake transcript or challenge nonce can reproduce, and the fake device cannot re-sign. So for the
/// identity keys listed here the expected report data is that node's sample's own report data (and, when `nonce`
/// is set, only for that one challenge nonce); for every other key and nonce it is the production binding
/// (`BoundReportData`). Everything else (vendor chains, collateral, TCB, debug, measurements) runs for real.
struct SampleReportData: ReportDataExpectation {
    var samples: [PublicKey: [UInt8]]
    var nonce: [UInt8]? = nil

    func handshake(identityKey: PublicKey, bindingBlob: [UInt8]) -> [UInt8] {
        samples[identityKey] ?? BoundReportData().handshake(identityKey: identityKey, bindingBlob: bindingBlob)
    }

    func challenge(identityKey: PublicKey, nonce: [UInt8]) -> [UInt8] {
        if let expectedNonce = self.nonce, expectedNonce != nonce {
            return BoundReportData().challenge(identityKey: identityKey, nonce: nonce)
        }
        return samples[identityKey] ?? BoundReportData().challenge(identityKey: identityKey, nonce: nonce)
    }
}

/// A policy file (the `PolicyDocument` format a node names in its configuration) with a release manifest signed by
/// a fresh release key, written to `path`.
func writePolicy(
    to path: String, manifestEntries: [String: [[String: String]]], minimumTCB: String = "UpToDate",
    snp: [String: Any]? = nil
) throws {
    let body: [String: Any] = ["format": 1, "releases": [["version": "test", "platforms": manifestEntries]]]
    let bodyBytes = Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
    let releaseKey = PrivateKey.generate()
    let signed = try SignedReleaseManifest(body: bodyBytes, signatures: []).signed(by: releaseKey)
    var document: [String: Any] = [
        "minimumTCBStatus": minimumTCB,
        "releaseManifest": try JSONSerialization.jsonObject(with: Data(signed.json)),
        "releaseKeys": [Hex.encode(releaseKey.publicKey.compressed)], "releaseThreshold": 1,
    ]
    // No real AMD CRL exists for the Milan sample's ARK in the test data (AttestationTests' AMDRevocationTests use a
    // synthetic chain), so these policies say the CRL is optional unless a test sets it.
    var snpSection = snp ?? [:]
    if snpSection["requireCRL"] == nil { snpSection["requireCRL"] = false }
    document["snp"] = snpSection
    try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
}

/// The manifest entries naming every good sample's measurement (TDX MRTD, SNP MEASUREMENT, SGX MRENCLAVE), as
/// their own verified evidence reports them.
func sampleManifestEntries(collateral: CollateralCache, at time: Date) throws -> [String: [[String: String]]] {
    var entries: [String: [[String: String]]] = [:]
    for (sample, name) in [(HardwareSample.tdx, "mrtd"), (.snp, "measurement"), (.sgx, "mrenclave")] {
        let parsed = try Evidence.parse(try TestData.bytes(sample.evidencePath), platform: sample.attestationPlatform)
        let verified = try EvidenceVerifier().verify(parsed, collateral: try collateral.collateral(for: parsed, at: time), at: time)
        var entry = [name: Hex.encode(verified.measurements[name]!)]
        if sample == .tdx {  // a TDX entry pins every RTMR (or says why one is open)
            for register in ["rtmr0", "rtmr1", "rtmr2", "rtmr3"] { entry[register] = Hex.encode(verified.measurements[register]!) }
        }
        entries[sample.attestationPlatform.rawValue] = [entry]
    }
    return entries
}
