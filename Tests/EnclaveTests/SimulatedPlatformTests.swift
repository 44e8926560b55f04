import Attestation
import Crypto
import Foundation
import Secp256k1
import Testing

@testable import Enclave

/// Goal: the simulated platform behaves like a machine — stable per data directory, distinct across them — and
/// its evidence and sealing keys are bound to the measurement. Method: temporary machine directories, fixed
/// measurements, and the Attestation module's own parser for the evidence.
@Suite("SimulatedPlatform")
struct SimulatedPlatformTests {
    static let measurementA = [UInt8](repeating: 0xA1, count: 32)
    static let measurementB = [UInt8](repeating: 0xB2, count: 32)

    @Test func evidenceIsSignedSimulatedEvidenceOverTheReportData() throws {
        let directory = try TemporaryDirectory()
        let platform = try SimulatedPlatform(machineDirectory: directory.path, measurement: Self.measurementA, logger: quietLogger)
        let reportData = (0..<64).map { UInt8($0) }
        let evidence = try platform.evidence(reportData: reportData)
        #expect(evidence.kind == .simulated)
        let parsed = try SimulatedEvidence(bytes: evidence.bytes)
        #expect(parsed.isSignatureValid)
        #expect(parsed.measurement == Self.measurementA)
        #expect(parsed.reportData == reportData)
        #expect(parsed.platformKey == platform.platformPublicKey)
        var forged = evidence.bytes
        forged[50] ^= 1  // inside the report data
        #expect(try !SimulatedEvidence(bytes: forged).isSignatureValid)
        #expect(throws: EnclaveError.invalidReportDataLength(expected: 64, actual: 32)) {
            try platform.evidence(reportData: [UInt8](repeating: 0, count: 32))
        }
    }

    @Test func eachDataDirectoryIsOneMachine() throws {
        let first = try TemporaryDirectory()
        let second = try TemporaryDirectory()
        let a1 = try SimulatedPlatform(machineDirectory: first.path, measurement: Self.measurementA, logger: quietLogger)
        let a2 = try SimulatedPlatform(machineDirectory: first.path, measurement: Self.measurementA, logger: quietLogger)
        let b = try SimulatedPlatform(machineDirectory: second.path, measurement: Self.measurementA, logger: quietLogger)
        #expect(a1.platformPublicKey == a2.platformPublicKey)
        #expect(a1.platformPublicKey != b.platformPublicKey)
        let keyA1 = try a1.sealingKey(policy: .measurement)
        let keyA2 = try a2.sealingKey(policy: .measurement)
        let keyB = try b.sealingKey(policy: .measurement)
        #expect(keyA1 == keyA2)
        #expect(keyA1 != keyB)
        let attributes = try FileManager.default.attributesOfItem(
            atPath: first.file(SimulatedPlatform.rootSecretFileName))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func sealingKeysFollowThePolicy() throws {
        let directory = try TemporaryDirectory()
        let a = try SimulatedPlatform(machineDirectory: directory.path, measurement: Self.measurementA, logger: quietLogger)
        let b = try SimulatedPlatform(machineDirectory: directory.path, measurement: Self.measurementB, logger: quietLogger)
        // Measurement keys differ between builds; signer keys are shared by every build of the same signer.
        #expect(try a.sealingKey(policy: .measurement) != b.sealingKey(policy: .measurement))
        #expect(try a.sealingKey(policy: .signer) == b.sealingKey(policy: .signer))
        #expect(try a.sealingKey(policy: .signer) != a.sealingKey(policy: .measurement))
        let otherSigner = try SimulatedPlatform(
            machineDirectory: directory.path, measurement: Self.measurementA,
            releaseSigner: [UInt8](repeating: 7, count: 32), logger: quietLogger)
        #expect(try otherSigner.sealingKey(policy: .signer) != a.sealingKey(policy: .signer))
    }

    @Test func measurementDefaultsToTheExecutableHash() throws {
        let directory = try TemporaryDirectory()
        let platform = try SimulatedPlatform(machineDirectory: directory.path, logger: quietLogger)
        let executable = try Data(contentsOf: URL(fileURLWithPath: "/proc/self/exe"))
        #expect(platform.measurement == Array(SHA256.hash(data: executable)))
    }

    @Test func startLogsAnInsecureWarning() throws {
        let directory = try TemporaryDirectory()
        let log = CapturedLog()
        _ = try SimulatedPlatform(machineDirectory: directory.path, measurement: Self.measurementA, logger: log.logger())
        #expect(log.messages.contains { $0.level >= .warning && $0.message.contains("INSECURE simulated enclave") })
    }

    @Test func corruptMachineSecretsAreRejected() throws {
        let directory = try TemporaryDirectory()
        try writeFile(directory.file(SimulatedPlatform.rootSecretFileName), [1, 2, 3])
        try writeFile(directory.file(SimulatedPlatform.platformKeyFileName), [UInt8](repeating: 0, count: 32))
        #expect(throws: EnclaveError.simulatedSecretInvalid(path: directory.file(SimulatedPlatform.platformKeyFileName))) {
            try SimulatedPlatform(machineDirectory: directory.path, measurement: Self.measurementA, logger: quietLogger)
        }
    }

    @Test func reportDataBindingMatchesAnIndependentComputation() throws {
        // Expected value from Python: hashlib.sha512(b"darknode/attestation/report-data/v1" + b"\x00" + G_compressed
        // + bytes([32]) + bytes(range(32))).hexdigest(), G the secp256k1 generator (private key 1).
        let generator = try PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [1]).publicKey
        let nonce = (0..<32).map { UInt8($0) }
        let reportData = try IdentityReportData.reportData(identityKey: generator, nonce: nonce)
        #expect(
            reportData
                == hex(
                    "b6140c59d49cdccfc82dab0e8749629a2866d77ae21832441c49d9b585fffe6846507da694b97763b02dc97f30167e213d1a4eb65f3473513edb03604da50b3b"
                ))
        // The node and the Attestation verifier use one definition of these bytes.
        #expect(reportData == ReportDataBinding(identityKey: generator, nonce: nonce).reportData)
        let truncated = try IdentityReportData.reportData(identityKey: generator, nonce: nonce, size: 32)
        #expect(truncated == Array(reportData.prefix(32)))
        #expect(throws: EnclaveError.nonceTooLong(maximum: 64, actual: 65)) {
            try IdentityReportData.reportData(identityKey: generator, nonce: [UInt8](repeating: 0, count: 65))
        }
    }
}
