import Attestation
import Crypto
import Foundation
import Testing

@testable import Enclave

/// Goal: `darknode init`'s library side — a data directory gets a sealed identity, a store and a configuration
/// that reads back; evidence from it binds the identity key and the nonce. Method: simulated platform in a
/// temporary directory with a fixed measurement.
@Suite("Data directory and node identity")
struct DataDirectoryTests {
    static func environment(_ directory: DataDirectory, measurement: UInt8 = 0xAB) -> PlatformEnvironment {
        PlatformEnvironment(
            simulatedMachineDirectory: directory.simulatedMachinePath, gramineRoot: directory.path + "/no-gramine",
            configfsReportRoot: directory.path + "/no-configfs", simulatedMeasurement: [UInt8](repeating: measurement, count: 32))
    }

    @Test func initializeThenOpenKeepsTheIdentity() throws {
        let temporary = try TemporaryDirectory()
        let directory = DataDirectory(path: temporary.file("node"))
        let configuration = EnclaveConfiguration(platform: .simulated)
        let created = try directory.initialize(configuration: configuration, environment: Self.environment(directory), logger: quietLogger)
        let publicKey = created.identity.publicKey
        try created.store.close()
        #expect(throws: DataDirectory.Failure.alreadyInitialized(path: directory.path)) {
            try directory.initialize(configuration: configuration, environment: Self.environment(directory), logger: quietLogger)
        }
        let opened = try directory.open(environment: Self.environment(directory), logger: quietLogger)
        #expect(opened.identity.publicKey == publicKey)
        #expect(opened.configuration == configuration)
        #expect(opened.platform.kind == .simulated)
        #expect(throws: NodeIdentity.Failure.alreadyExists) { try NodeIdentity.create(in: opened.store) }
        try opened.store.close()

        // Another build (another measurement) cannot open the store under the default policy.
        #expect(throws: SealedStoreError.wrongSealingKey) {
            try directory.open(environment: Self.environment(directory, measurement: 0xCD), logger: quietLogger)
        }
    }

    @Test func evidenceBindsIdentityAndNonce() throws {
        let temporary = try TemporaryDirectory()
        let directory = DataDirectory(path: temporary.file("node"))
        let node = try directory.initialize(
            configuration: EnclaveConfiguration(platform: .simulated), environment: Self.environment(directory), logger: quietLogger)
        defer { try? node.store.close() }
        let nonce = (0..<32).map { UInt8($0) }
        let evidence = try node.identity.evidence(platform: node.platform, nonce: nonce)
        let parsed = try SimulatedEvidence(bytes: evidence.evidence)
        #expect(parsed.isSignatureValid)
        #expect(parsed.reportData == (try IdentityReportData.reportData(identityKey: node.identity.publicKey, nonce: nonce)))
        #expect(evidence.reportData == parsed.reportData)
        #expect(parsed.measurement == [UInt8](repeating: 0xAB, count: 32))
    }

    @Test func initWithoutHardwareFailsAndLeavesNothing() throws {
        let temporary = try TemporaryDirectory()
        let directory = DataDirectory(path: temporary.file("node"))
        #expect(throws: EnclaveError.self) {
            try directory.initialize(configuration: EnclaveConfiguration(), environment: Self.environment(directory), logger: quietLogger)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }

    @Test func openWithoutInitIsNamed() throws {
        let temporary = try TemporaryDirectory()
        let directory = DataDirectory(path: temporary.file("empty"))
        #expect(throws: DataDirectory.Failure.notInitialized(path: directory.path)) {
            try directory.open(environment: Self.environment(directory), logger: quietLogger)
        }
    }

    @Test func defaultConfigurationFileParsesBack() throws {
        for configuration in [
            EnclaveConfiguration(),
            EnclaveConfiguration(platform: .simulated, sealingPolicy: .signer),
            EnclaveConfiguration(platform: .configfsTSM, provisionedSealingKeyPath: "/run/darknode/key"),
        ] {
            #expect(try EnclaveConfiguration.parse(configuration.defaultFileText) == configuration)
            #expect(configuration.defaultFileText.contains("# Which trusted execution environment"))
        }
    }

    @Test func configurationErrorsAreTyped() throws {
        #expect(throws: ConfigurationError.unknownKey(section: "enclave", key: "platfrom")) {
            try EnclaveConfiguration.parse("[enclave]\nplatfrom = \"auto\"\n")
        }
        #expect(throws: ConfigurationError.invalidValue(key: "enclave.platform", value: "\"sgx\"",
                                                        expected: PlatformChoice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " | "))) {
            try EnclaveConfiguration.parse("[enclave]\nplatform = \"sgx\"\n")
        }
        #expect(throws: ConfigurationError.wrongType(key: "enclave.platform", expected: "a string", found: "integer")) {
            try EnclaveConfiguration.parse("[enclave]\nplatform = 3\n")
        }
        // Not TOML (a bare word): the parser's position comes back, on the second line.
        do {
            _ = try EnclaveConfiguration.parse("[enclave]\nplatform = auto\n")
            Issue.record("a bare word parsed")
        } catch {
            guard case .syntax(let line, _, _) = error else { Issue.record("not a syntax error: \(error)"); return }
            #expect(line == 2)
        }
        #expect(throws: ConfigurationError.tooLarge(ConfigurationFile.fileBytesMax + 1)) {
            try EnclaveConfiguration.parse(String(repeating: "#", count: ConfigurationFile.fileBytesMax + 1))
        }
        #expect(throws: ConfigurationError.notASection("platform")) {
            try EnclaveConfiguration.parse("platform = \"simulated\"\n")
        }
        // Other modules' sections are left to them.
        let parsed = try EnclaveConfiguration.parse("[node]\nanything = \"x\"\n[enclave]\nplatform = \"simulated\" # dev\n")
        #expect(parsed.platform == .simulated)
    }
}
