import Attestation
import Crypto
import Foundation
import Secp256k1
import Synchronization
import TestSupport
import Testing

@testable import Enclave

/// Plays the kernel's part of configfs-tsm over an ordinary temporary directory: `mkdir` creates the entry's
/// attribute files, a write to `inblob` bumps `generation`, and `outblob` serves a fixed real sample.
final class FakeTSMKernel: TSMReportFileSystem {
    let provider: String
    let outblob: [UInt8]
    /// Extra generation bumps per inblob write: 1 is a well-behaved kernel, 2 models a racing second writer.
    let generationStep: Int
    private let written = Mutex<[[UInt8]]>([])
    private let entries = Mutex<[String]>([])

    init(provider: String, outblob: [UInt8], generationStep: Int = 1) {
        self.provider = provider
        self.outblob = outblob
        self.generationStep = generationStep
    }

    var inblobs: [[UInt8]] { written.withLock { $0 } }
    var entriesMade: [String] { entries.withLock { $0 } }

    func makeEntry(_ path: String) throws(EnclaveError) {
        try PlatformFiles.makeDirectory(path)
        entries.withLock { $0.append(path) }
        do {
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
        try PlatformFiles.read(path, lengthMax: lengthMax)
    }

    func write(_ path: String, _ bytes: [UInt8]) throws(EnclaveError) {
        try PlatformFiles.write(path, bytes)
        guard path.hasSuffix("/inblob") else { return }
        written.withLock { $0.append(bytes) }
        let generationPath = PlatformFiles.parentPath(path) + "/generation"
        let current = Int(PlatformFiles.text(try PlatformFiles.read(generationPath, lengthMax: 64)))!
        do {
            try Data("\(current + generationStep)\n".utf8).write(to: URL(fileURLWithPath: generationPath))
        } catch {
            throw .fileUnwritable(path: generationPath, reason: "\(error)")
        }
    }
}

/// Goal: the hardware platforms drive their device interfaces correctly and return the platform's bytes
/// unchanged. Method: fake configfs-tsm and Gramine trees that serve the real samples of
/// Tests/Fixtures/attestation (SOURCES.md), then check the bytes, the report data written, the measurement
/// read, and the header fields of the returned evidence.
@Suite("Hardware platforms on fake trees")
struct HardwarePlatformTests {
    static let tdxSample = "attestation/intel-tdx/tdx_quote_v4.bin"
    static let snpSample = "attestation/amd-sev-snp/milan_vcek_report_v2.bin"
    static let sgxSample = "attestation/intel-sgx/sgx_quote_v3.bin"

    /// A configfs-tsm platform over a fake kernel that serves `sample` as its report, in `directory`.
    static func fakeConfigfs(provider: String, sample: String, in directory: TemporaryDirectory) throws
        -> (platform: ConfigfsTSMPlatform, kernel: FakeTSMKernel, blob: [UInt8])
    {
        let root = directory.file("tsm-report")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
        let blob = try TestData.bytes(sample)
        let kernel = FakeTSMKernel(provider: provider, outblob: blob)
        let platform = try ConfigfsTSMPlatform(
            reportRoot: root, fileSystem: kernel, sealingKeySource: try provisionedKey(in: directory))
        return (platform, kernel, blob)
    }

    static func provisionedKey(in directory: TemporaryDirectory) throws -> ProvisionedKeyFileSource {
        let path = directory.file("sealing.key")
        try writeFile(path, (0..<32).map { UInt8($0) })
        return ProvisionedKeyFileSource(path: path, releaseSigner: [UInt8](repeating: 0x5E, count: 32))
    }

    @Test(arguments: [
        ("tdx_guest", "attestation/intel-tdx/tdx_quote_v4.bin", EnclavePlatformKind.tdx),
        ("sev_guest", "attestation/amd-sev-snp/milan_vcek_report_v2.bin", EnclavePlatformKind.sevSNP),
    ])
    func configfsReturnsTheKernelsBlobAndWritesTheReportData(provider: String, sample: String, kind: EnclavePlatformKind) throws {
        let directory = try TemporaryDirectory()
        let (platform, kernel, blob) = try Self.fakeConfigfs(provider: provider, sample: sample, in: directory)
        #expect(platform.kind == kind)
        #expect(platform.measurement == (try NativeEvidenceFields(kind: kind, bytes: blob)).measurement)

        let reportData = (0..<64).map { UInt8(255 - $0) }
        let evidence = try platform.evidence(reportData: reportData)
        #expect(evidence.kind == kind)
        #expect(evidence.bytes == blob)
        #expect(kernel.inblobs == [[UInt8](repeating: 0, count: 64), reportData])  // start-up probe, then ours
        #expect(Set(kernel.entriesMade).count == 2)  // one entry per request
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.file("tsm-report")).isEmpty)  // every entry removed
        #expect(throws: EnclaveError.invalidReportDataLength(expected: 64, actual: 63)) {
            try platform.evidence(reportData: [UInt8](repeating: 0, count: 63))
        }
    }

    @Test func configfsDetectsARacingWriter() throws {
        let directory = try TemporaryDirectory()
        let kernel = FakeTSMKernel(provider: "tdx_guest", outblob: try TestData.bytes(Self.tdxSample), generationStep: 2)
        #expect(throws: EnclaveError.generationMismatch(expected: 8, actual: 9)) {
            try ConfigfsTSMPlatform(reportRoot: directory.path, fileSystem: kernel, sealingKeySource: try Self.provisionedKey(in: directory))
        }
    }

    @Test func configfsRejectsUnknownProviders() throws {
        let directory = try TemporaryDirectory()
        let kernel = FakeTSMKernel(provider: "arm_cca_guest", outblob: [1, 2, 3])
        #expect(throws: EnclaveError.unsupportedProvider("arm_cca_guest")) {
            try ConfigfsTSMPlatform(reportRoot: directory.path, fileSystem: kernel, sealingKeySource: try Self.provisionedKey(in: directory))
        }
    }

    @Test func configfsSealingKeysComeFromTheProvisionedKey() throws {
        let directory = try TemporaryDirectory()
        let source = try Self.provisionedKey(in: directory)
        let tdx = try ConfigfsTSMPlatform(
            reportRoot: directory.path, fileSystem: FakeTSMKernel(provider: "tdx_guest", outblob: try TestData.bytes(Self.tdxSample)),
            sealingKeySource: source)
        let snp = try ConfigfsTSMPlatform(
            reportRoot: directory.path, fileSystem: FakeTSMKernel(provider: "sev_guest", outblob: try TestData.bytes(Self.snpSample)),
            sealingKeySource: source)
        #expect(try tdx.sealingKey(policy: .measurement) == tdx.sealingKey(policy: .measurement))
        #expect(try tdx.sealingKey(policy: .measurement) != snp.sealingKey(policy: .measurement))
        #expect(try tdx.sealingKey(policy: .measurement) != tdx.sealingKey(policy: .signer))
        try writeFile(source.path, [1, 2, 3])
        #expect(throws: EnclaveError.self) { try tdx.sealingKey(policy: .measurement) }
    }

    /// A Gramine `/dev/attestation` tree for the real SGX sample: its MRENCLAVE in `my_target_info`, its report
    /// body in `report`, the quote itself in `quote`, and two 16-byte sealing keys.
    static func makeGramineTree(in directory: TemporaryDirectory) throws -> (root: String, quote: [UInt8]) {
        let root = directory.file("attestation")
        try FileManager.default.createDirectory(atPath: root + "/keys", withIntermediateDirectories: true)
        let quote = try TestData.bytes(Self.sgxSample)
        let body = Array(quote[48..<432])
        try writeFile(root + "/attestation_type", bytes("dcap\n"))
        try writeFile(root + "/my_target_info", Array(body[64..<96]) + [UInt8](repeating: 0, count: 480))
        try writeFile(root + "/report", body + [UInt8](repeating: 0, count: 48))
        try writeFile(root + "/quote", quote)
        try writeFile(root + "/user_report_data", [])
        try writeFile(root + "/keys/_sgx_mrenclave", [UInt8](repeating: 0x11, count: 16))
        try writeFile(root + "/keys/_sgx_mrsigner", [UInt8](repeating: 0x22, count: 16))
        return (root, quote)
    }

    @Test func gramineWritesUserReportDataThenReturnsTheQuote() throws {
        let directory = try TemporaryDirectory()
        let (root, quote) = try Self.makeGramineTree(in: directory)
        let platform = try GramineSGXPlatform(root: root)
        #expect(platform.measurement == hex("33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"))
        #expect(platform.signer == hex("815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6"))
        let reportData = (0..<64).map { UInt8($0 * 3 & 0xFF) }
        let evidence = try platform.evidence(reportData: reportData)
        #expect(evidence.kind == .sgxGramine)
        #expect(evidence.bytes == quote)
        #expect(try readFile(root + "/user_report_data") == reportData)
        let measurementKey = try platform.sealingKey(policy: .measurement)
        #expect(measurementKey != (try platform.sealingKey(policy: .signer)))
        #expect(measurementKey.bitCount == 256)
    }

    @Test func gramineRefusesNonDCAPAndBadKeys() throws {
        let directory = try TemporaryDirectory()
        let (root, _) = try Self.makeGramineTree(in: directory)
        try writeFile(root + "/keys/_sgx_mrsigner", [1, 2, 3])
        let platform = try GramineSGXPlatform(root: root)
        #expect(throws: EnclaveError.sealingKeyUnavailable(reason: "keys/_sgx_mrsigner is 3 bytes, expected 16")) {
            try platform.sealingKey(policy: .signer)
        }
        try writeFile(root + "/attestation_type", bytes("none\n"))
        #expect(throws: EnclaveError.unsupportedAttestationType("none")) { try GramineSGXPlatform(root: root) }
    }

    static func time(_ iso8601: String) throws -> Date { try Date(iso8601, strategy: .iso8601) }

    /// What a configfs-tsm platform returns goes through the full Attestation verifier — quote or report
    /// signature, certificate chain to the pinned Intel or AMD root, Intel collateral (TCB info, QE identity,
    /// CRLs) — at the verification time SOURCES.md gives, and verifies; its measurement is the one the platform
    /// reported at start-up, and its report data is what the platform wrote to `inblob`. The fake kernel cannot
    /// sign, so the report data asked for is the sample's own (a real kernel signs whatever it is given).
    @Test(arguments: [
        ("tdx_guest", "attestation/intel-tdx/tdx_quote_v4.bin", "mrtd", "2025-07-01T00:00:00Z"),
        ("sev_guest", "attestation/amd-sev-snp/milan_vcek_report_v2.bin", "measurement", "2024-06-01T00:00:00Z"),
    ])
    func configfsEvidenceVerifiesWithTheRealCollateral(provider: String, sample: String, measurementName: String, at: String) throws {
        let directory = try TemporaryDirectory()
        let (platform, kernel, blob) = try Self.fakeConfigfs(provider: provider, sample: sample, in: directory)
        let reportData = try NativeEvidenceFields(kind: platform.kind, bytes: blob).reportData
        let evidence = try platform.evidence(reportData: reportData)
        #expect(kernel.inblobs.last == reportData)

        var collateral = Collateral()
        switch platform.kind {
        case .tdx: collateral.intel = try IntelCollateral(json: try TestData.bytes("attestation/intel-tdx/tdx_quote_v4_collateral.json"))
        case .sevSNP: collateral.certificates = [try TestData.bytes("attestation/amd-sev-snp/milan_vcek_report_v2.vcek.der")]
        default: Issue.record("unexpected platform \(platform.kind)")
        }
        let time = try Self.time(at)
        let verified = try EvidenceVerifier().verify(
            evidence.bytes, platform: evidence.kind.attestationPlatform, collateral: collateral, at: time)
        #expect(verified.platform == evidence.kind.attestationPlatform)
        #expect(verified.measurements[measurementName] == platform.measurement)
        #expect(verified.reportData == reportData)
        #expect(!verified.isDebug)
        #expect(verified.collateralChecked)  // TDX: Intel collateral; SNP: the VCEK
        #expect(AttestationPolicy.authenticity.evaluate(verified, at: time) == .accepted)
        // The same evidence a day after the collateral or certificates expire is not accepted silently.
        #expect(throws: AttestationError.self) {
            try EvidenceVerifier().verify(
                evidence.bytes, platform: evidence.kind.attestationPlatform, collateral: collateral, at: time.addingTimeInterval(20 * 365 * 86_400))
        }
    }

    /// The same for a Gramine tree: the quote read from `/dev/attestation/quote` verifies with the real Intel
    /// collateral at the SOURCES.md time; MRENCLAVE and MRSIGNER are the ones the platform read from Gramine's
    /// files; the report data is what it wrote to `user_report_data`.
    @Test func gramineEvidenceVerifiesWithTheRealCollateral() throws {
        let directory = try TemporaryDirectory()
        let (root, quote) = try Self.makeGramineTree(in: directory)
        let platform = try GramineSGXPlatform(root: root)
        let reportData = try NativeEvidenceFields(kind: .sgxGramine, bytes: quote).reportData
        let evidence = try platform.evidence(reportData: reportData)
        #expect(try readFile(root + "/user_report_data") == reportData)

        let time = try Self.time("2025-07-01T00:00:00Z")
        let collateral = Collateral(intel: try IntelCollateral(json: try TestData.bytes("attestation/intel-sgx/sgx_quote_v3_collateral.json")))
        let verified = try EvidenceVerifier().verify(evidence.bytes, platform: evidence.kind.attestationPlatform, collateral: collateral, at: time)
        #expect(verified.platform == .sgx)
        #expect(verified.measurements["mrenclave"] == platform.measurement)
        #expect(verified.measurements["mrsigner"] == platform.signer)
        #expect(verified.reportData == reportData)
        #expect(verified.collateralChecked && !verified.isDebug)
        #expect(verified.tcb.status == .configurationAndSWHardeningNeeded)  // SOURCES.md: this platform's TCB level
        #expect(AttestationPolicy.authenticity.evaluate(verified, at: time) == .accepted)
        // A node that asked for other report data and got this quote back would be told so by the verifier's
        // binding check, not fooled: the quote's report data is not the binding of a fresh nonce.
        let binding = ReportDataBinding(identityKey: try PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [1]).publicKey, nonce: [1, 2, 3])
        let decision = AttestationPolicy(minimumTCB: .revoked).evaluate(verified, binding: binding, at: time)
        #expect(decision.reasons.count == 1)
        #expect(decision.reasons.first?.hasPrefix("ReportDataBindingPolicy:") == true)
    }

    /// The header fields of the evidence served by the fake trees, read independently of the Attestation module
    /// (the full verification of the same bytes is in the two tests above).
    @Test func fakeTreeEvidenceHeaderFieldsMatchSOURCES() throws {
        let sgx = try NativeEvidenceFields(kind: .sgxGramine, bytes: try TestData.bytes(Self.sgxSample))
        #expect(sgx.version == 3)
        #expect(sgx.reportDataOffset == 368)
        #expect(sgx.reportData == bytes("Hello, world!") + [UInt8](repeating: 0, count: 51))
        let tdx = try NativeEvidenceFields(kind: .tdx, bytes: try TestData.bytes(Self.tdxSample))
        #expect(tdx.version == 4)
        #expect(tdx.reportDataOffset == 568)
        #expect(tdx.measurement == hex("91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"))
        #expect(tdx.reportData == hex("9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20"))
        let snp = try NativeEvidenceFields(kind: .sevSNP, bytes: try TestData.bytes(Self.snpSample))
        #expect(snp.version == 2)
        #expect(snp.reportDataOffset == 0x50)
        #expect(snp.measurement == hex("7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f"))
        #expect(snp.reportData == hex("d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd"))
        #expect(throws: EnclaveError.self) { try NativeEvidenceFields(kind: .tdx, bytes: Array(try TestData.bytes(Self.tdxSample).prefix(600))) }
        #expect(throws: EnclaveError.self) { try NativeEvidenceFields(kind: .tdx, bytes: try TestData.bytes(Self.sgxSample)) }
        #expect(throws: EnclaveError.self) { try NativeEvidenceFields(kind: .sevSNP, bytes: [UInt8](repeating: 0, count: 100)) }
    }

    @Test func autoNeverFallsBackToSimulation() throws {
        let directory = try TemporaryDirectory()
        let environment = PlatformEnvironment(
            simulatedMachineDirectory: directory.file("machine"), gramineRoot: directory.file("no-gramine"),
            configfsReportRoot: directory.file("no-configfs"))
        #expect(PlatformSelector.detect(environment) == nil)
        #expect(throws: EnclaveError.noHardwarePlatform(searched: [directory.file("no-gramine"), directory.file("no-configfs")])) {
            try PlatformSelector.open(.auto, environment: environment, logger: quietLogger)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("machine")))
        let simulated = try PlatformSelector.open(.simulated, environment: environment, logger: quietLogger)
        #expect(simulated.kind == .simulated)
    }

    @Test func autoPicksGramineWhenItsFilesExist() throws {
        let directory = try TemporaryDirectory()
        let (root, _) = try Self.makeGramineTree(in: directory)
        let environment = PlatformEnvironment(
            simulatedMachineDirectory: directory.file("machine"), gramineRoot: root,
            configfsReportRoot: directory.file("no-configfs"))
        #expect(PlatformSelector.detect(environment) == .sgxGramine)
        let platform = try PlatformSelector.open(.auto, environment: environment, logger: quietLogger)
        #expect(platform.kind == .sgxGramine)
        #expect(platform.vendor == .intel)
    }

    @Test func autoPicksConfigfsWhenItsDirectoryExists() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file("tsm"), withIntermediateDirectories: false)
        var environment = PlatformEnvironment(
            simulatedMachineDirectory: directory.file("machine"), gramineRoot: directory.file("no-gramine"),
            configfsReportRoot: directory.file("tsm"))
        #expect(PlatformSelector.detect(environment) == .configfsTSM)
        // A plain directory has no kernel behind it: mkdir gives no attributes, which is a typed error.
        #expect(throws: EnclaveError.self) { try PlatformSelector.open(.auto, environment: environment, logger: quietLogger) }
        environment.provisionedSealingKeyPath = try Self.provisionedKey(in: directory).path
        #expect(throws: EnclaveError.self) { try PlatformSelector.open(.auto, environment: environment, logger: quietLogger) }
    }

    @Test func snpDerivedKeyRequestSelectsTheRightFields() throws {
        let device = FakeSNPGuestDevice(status: 0)
        let source = SNPDerivedKeySource(device: device, vmpl: 1)
        let measurementKey = try source.sealingKey(policy: .measurement, kind: .sevSNP, measurement: [])
        let signerKey = try source.sealingKey(policy: .signer, kind: .sevSNP, measurement: [])
        #expect(measurementKey != signerKey)
        let requests = device.requests
        #expect(requests.count == 2)
        // root_key_select 0 (VCEK), guest_field_select, vmpl 1, guest_svn 0, tcb_version 0.
        #expect(requests[0] == [0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0] + [UInt8](repeating: 0, count: 12))
        #expect(requests[1] == [0, 0, 0, 0, 0, 0, 0, 0, 0x07, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0] + [UInt8](repeating: 0, count: 12))
        #expect(throws: EnclaveError.sealingKeyUnavailable(reason: "MSG_KEY_RSP status 22")) {
            try SNPDerivedKeySource(device: FakeSNPGuestDevice(status: 22)).sealingKey(policy: .measurement, kind: .sevSNP, measurement: [])
        }
        #expect(throws: EnclaveError.self) { try source.sealingKey(policy: .measurement, kind: .tdx, measurement: []) }
    }
}

/// Answers SNP_GET_DERIVED_KEY with a key that depends on the request, as the firmware's derivation does.
final class FakeSNPGuestDevice: SNPGuestDevice {
    let status: UInt32
    private let received = Mutex<[[UInt8]]>([])

    init(status: UInt32) {
        self.status = status
    }

    var requests: [[UInt8]] { received.withLock { $0 } }

    func derivedKey(request: [UInt8]) throws(EnclaveError) -> [UInt8] {
        received.withLock { $0.append(request) }
        let statusBytes = (0..<4).map { UInt8(truncatingIfNeeded: status >> (8 * UInt32($0))) }
        return statusBytes + [UInt8](repeating: 0, count: 28) + Array(SHA256.hash(data: request))
    }
}
