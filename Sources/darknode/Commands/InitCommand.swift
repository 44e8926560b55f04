import ArgumentParser
import Enclave
import Logging
import Node
import Secp256k1

extension PlatformChoice: ExpressibleByArgument {}
extension SealingPolicy: ExpressibleByArgument {}

/// `darknode init --data-dir DIR`: creates a node's data directory.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a node's data directory: sealed identity key, sealed store and a commented configuration file.",
        discussion: """
            The identity key is generated inside the enclave and stored only sealed. `--platform auto` (the default)
            uses real TEE hardware and fails when there is none; `--platform simulated` is INSECURE and meant for
            development, tests and localnets.
            """)

    @Option(name: .long, help: "The data directory to create.")
    var dataDir: String

    @Option(name: .long, help: "auto | sgx-gramine | configfs-tsm | simulated (INSECURE).")
    var platform: PlatformChoice = .auto

    @Option(name: .long, help: "measurement (this exact build; default) | signer (any build by the release signer).")
    var sealingPolicy: SealingPolicy = .default

    @Option(name: .long, help: "configfs-tsm: file with a 32-byte sealing root key provisioned after attestation (required on TDX; SNP otherwise uses its hardware-derived key).")
    var provisionedSealingKey: String?

    func run() throws {
        let logger = Logger(label: "darknode.init")
        let configuration = EnclaveConfiguration(
            platform: platform, sealingPolicy: sealingPolicy, provisionedSealingKeyPath: provisionedSealingKey)
        let directory = DataDirectory(path: dataDir)
        let node: OpenedNode
        do {
            let seam = try FakeHardwareSeam.fromEnvironment()
            node = try directory.initialize(configuration: configuration, otherSections: "\n" + NodeSettings().fileText,
                                            environment: try seam?.environment(for: directory), logger: logger)
        } catch EnclaveError.noHardwarePlatform(let searched) {
            throw ValidationError(
                "no TEE device found (looked for \(searched.joined(separator: ", "))); "
                    + "pass --platform simulated for an INSECURE development node")
        }
        defer { try? node.store.close() }
        print("data directory:  \(directory.path)")
        print("configuration:   \(directory.configurationPath)")
        print("store:           \(directory.storePath)")
        print("platform:        \(node.platform.kind.rawValue) (\(node.platform.vendor.rawValue))")
        print("measurement:     \(Hex.encode(node.platform.measurement))")
        print("sealing policy:  \(configuration.sealingPolicy.rawValue)")
        print("identity key:    \(Hex.encode(node.identity.publicKey.compressed))")
        if node.platform.kind == .simulated {
            print("WARNING: simulated enclave: INSECURE, for development and tests only")
        }
    }
}
