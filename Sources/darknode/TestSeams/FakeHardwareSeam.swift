import Attestation
import Enclave
import Foundation
import Secp256k1
import SecureChannel

/// The fake-hardware test seam of `darknode init` / `darknode run` (docs/enclave.md, "Test seam").
///
/// Process tests need nodes whose platform is a fake configfs-tsm or Gramine tree serving the real TDX, SNP and SGX
/// samples of Tests/Fixtures. That takes three things a production node must never do: a configfs-tsm kernel played
/// by this process (a plain directory does not create an entry's files on `mkdir`), peers' report data expected to be
/// their sample's fixed report data instead of this handshake's binding (a captured sample cannot be re-signed), and
/// a fixed appraisal time inside the samples' collateral windows. So the seam is compiled only into builds that
/// define `DARKNODE_TEST_SEAMS` (Package.swift: debug builds; release builds and `make release` never have it), is
/// switched on only by the environment variable `DARKNODE_TEST_FAKE_HARDWARE` naming a seam file, and announces
/// itself on standard error. A build without the seam refuses to start when the variable is set, so nobody believes
/// a test ran on a build that ignored it.
#if DARKNODE_TEST_SEAMS
struct FakeHardwareSeam {
    static let variable = FakeHardwareSeamVariable.name

    /// The seam file (JSON):
    /// `{"configfsTSM": {"reportRoot": DIR, "provider": "tdx_guest"|"sev_guest", "outblob": SAMPLE},
    ///   "gramineRoot": DIR, "appraisalTime": ISO8601, "sampleReportData": {IDENTITY_HEX: SAMPLE, …}}`,
    /// every key optional. `sampleReportData` names, per peer identity key, the sample whose report data that peer's
    /// evidence is expected to carry; every other key gets the production binding.
    struct File: Decodable {
        struct ConfigfsTSM: Decodable {
            let reportRoot: String
            let provider: String
            let outblob: String
        }
        let configfsTSM: ConfigfsTSM?
        let gramineRoot: String?
        let appraisalTime: String?
        let sampleReportData: [String: String]?
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    let file: File
    let path: String

    /// The seam named by the environment, or nil when the variable is unset.
    static func fromEnvironment() throws -> FakeHardwareSeam? {
        guard let path = ProcessInfo.processInfo.environment[variable] else { return nil }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw Failure(description: "\(variable)=\(path): \(error)")
        }
        FileHandle.standardError.write(Data(
            "WARNING: TEST SEAM \(variable)=\(path): fake TEE device tree, sample report-data binding, fixed appraisal time. Never a production node.\n".utf8))
        return FakeHardwareSeam(file: file, path: path)
    }

    /// The platform environment for `directory`: the fake trees instead of the real devices.
    func environment(for directory: DataDirectory) throws -> PlatformEnvironment {
        var environment = PlatformEnvironment(simulatedMachineDirectory: directory.simulatedMachinePath)
        if let gramineRoot = file.gramineRoot { environment.gramineRoot = gramineRoot }
        if let tsm = file.configfsTSM {
            environment.configfsReportRoot = tsm.reportRoot
            let outblob: [UInt8]
            do { outblob = Array(try Data(contentsOf: URL(fileURLWithPath: tsm.outblob))) } catch {
                throw Failure(description: "\(path): configfsTSM.outblob \(tsm.outblob): \(error)")
            }
            environment.configfsFileSystem = SampleTSMKernel(provider: tsm.provider, outblob: outblob)
        }
        return environment
    }

    /// The time peers' evidence is appraised at.
    func clock() throws -> @Sendable () -> Date {
        guard let text = file.appraisalTime else { return { Date() } }
        guard let time = ISO8601DateFormatter().date(from: text) else {
            throw Failure(description: "\(path): appraisalTime is not ISO 8601: \(text)")
        }
        return { time }
    }

    /// The report data each listed peer's evidence must carry: its sample's own.
    func expectation() throws -> any ReportDataExpectation {
        var samples: [PublicKey: [UInt8]] = [:]
        for (identity, samplePath) in file.sampleReportData ?? [:] {
            guard let bytes = Hex.decode(identity), let key = try? PublicKey(encoded: bytes) else {
                throw Failure(description: "\(path): sampleReportData key is not a compressed secp256k1 key: \(identity)")
            }
            do {
                samples[key] = try Evidence.parse(Array(try Data(contentsOf: URL(fileURLWithPath: samplePath))), platform: nil).reportData
            } catch {
                throw Failure(description: "\(path): sample \(samplePath): \(error)")
            }
        }
        return SampleReportData(samples: samples)
    }
}

/// For the identity keys it lists, the sample's own report data; for every other key the production binding.
struct SampleReportData: ReportDataExpectation {
    let samples: [PublicKey: [UInt8]]

    func handshake(identityKey: PublicKey, bindingBlob: [UInt8]) -> [UInt8] {
        samples[identityKey] ?? BoundReportData().handshake(identityKey: identityKey, bindingBlob: bindingBlob)
    }

    func challenge(identityKey: PublicKey, nonce: [UInt8]) -> [UInt8] {
        samples[identityKey] ?? BoundReportData().challenge(identityKey: identityKey, nonce: nonce)
    }
}

/// Plays the kernel's part of configfs-tsm over a plain directory: `mkdir` creates the entry's attribute files, a
/// write to `inblob` bumps `generation`, and `outblob` is always the one sample, whatever report data was written.
struct SampleTSMKernel: TSMReportFileSystem {
    let provider: String
    let outblob: [UInt8]

    func makeEntry(_ path: String) throws(EnclaveError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            try Data("\(provider)\n".utf8).write(to: URL(fileURLWithPath: path + "/provider"))
            try Data("0\n".utf8).write(to: URL(fileURLWithPath: path + "/generation"))
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
#else
/// Release builds: no seam. The type has no values, so nothing below can run; a set variable stops the node.
enum FakeHardwareSeam {
    static func fromEnvironment() throws -> FakeHardwareSeam? {
        guard ProcessInfo.processInfo.environment[FakeHardwareSeamVariable.name] == nil else {
            throw FakeHardwareSeamVariable.Unavailable()
        }
        return nil
    }
    func environment(for directory: DataDirectory) throws -> PlatformEnvironment { switch self {} }
    func clock() throws -> @Sendable () -> Date { switch self {} }
    func expectation() throws -> any ReportDataExpectation { switch self {} }
}
#endif

enum FakeHardwareSeamVariable {
    static let name = "DARKNODE_TEST_FAKE_HARDWARE"

    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "\(name) is set, but this build has no test seams (only builds defining DARKNODE_TEST_SEAMS: debug)" }
    }
}
