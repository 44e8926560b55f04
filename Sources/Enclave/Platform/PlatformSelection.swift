import Logging

/// Which platform a node should use. `auto` only ever picks real hardware; `simulated` must be asked for.
public enum PlatformChoice: String, Sendable, CaseIterable {
    /// The first real platform whose device files exist (Gramine, then configfs-tsm); an error when none does.
    case auto
    /// The insecure simulated platform (development, CI, localnets).
    case simulated
    /// Gramine SGX (`/dev/attestation`).
    case sgxGramine = "sgx-gramine"
    /// configfs-tsm (TDX or SEV-SNP).
    case configfsTSM = "configfs-tsm"
}

/// Where the platforms' files are, and what each needs beyond them. Paths are injectable so that tests can point
/// them at fake trees.
public struct PlatformEnvironment: Sendable {
    public var gramineRoot: String
    public var configfsReportRoot: String
    /// The simulated platform's "machine": where its platform key and root secret live.
    public var simulatedMachineDirectory: String
    /// Overrides the simulated measurement (tests; normally the executable's SHA-256).
    public var simulatedMeasurement: [UInt8]?
    /// The provisioned sealing root key for configfs-tsm platforms (see `ProvisionedKeyFileSource`).
    public var provisionedSealingKeyPath: String?
    /// The identity `.signer` sealing keys are bound to where the hardware has no signer (32 bytes).
    public var releaseSigner: [UInt8]
    /// The SEV-SNP guest device for hardware-derived sealing keys.
    public var snpGuestDevicePath = "/dev/sev-guest"
    /// How configfs-tsm entries are made and read: the kernel's mount in production; a fake kernel only in tests
    /// (the `darknode` binary's fake-hardware seam exists in debug builds only, docs/enclave.md).
    public var configfsFileSystem: any TSMReportFileSystem = LinuxTSMReportFileSystem()

    public init(
        simulatedMachineDirectory: String, gramineRoot: String = GramineSGXPlatform.defaultRoot,
        configfsReportRoot: String = ConfigfsTSMPlatform.defaultReportRoot, simulatedMeasurement: [UInt8]? = nil,
        provisionedSealingKeyPath: String? = nil, releaseSigner: [UInt8] = SimulatedPlatform.defaultReleaseSigner
    ) {
        self.gramineRoot = gramineRoot
        self.configfsReportRoot = configfsReportRoot
        self.simulatedMachineDirectory = simulatedMachineDirectory
        self.simulatedMeasurement = simulatedMeasurement
        self.provisionedSealingKeyPath = provisionedSealingKeyPath
        self.releaseSigner = releaseSigner
    }
}

/// Picks and opens a platform.
public enum PlatformSelector {
    /// The real platform whose device files exist here, if any. Never `.simulated`.
    public static func detect(_ environment: PlatformEnvironment) -> PlatformChoice? {
        if PlatformFiles.exists(PlatformFiles.join(environment.gramineRoot, "quote")),
            PlatformFiles.exists(PlatformFiles.join(environment.gramineRoot, "attestation_type"))
        {
            return .sgxGramine
        }
        if PlatformFiles.isDirectory(environment.configfsReportRoot) { return .configfsTSM }
        return nil
    }

    /// Opens the chosen platform. `auto` without hardware throws `noHardwarePlatform`: it never falls back to the
    /// simulated platform, which would silently run a node with no protection.
    public static func open(_ choice: PlatformChoice, environment: PlatformEnvironment, logger: Logger)
        throws(EnclaveError) -> any EnclavePlatform
    {
        switch choice {
        case .auto:
            guard let detected = detect(environment) else {
                throw .noHardwarePlatform(searched: [environment.gramineRoot, environment.configfsReportRoot])
            }
            return try open(detected, environment: environment, logger: logger)
        case .simulated:
            return try SimulatedPlatform(
                machineDirectory: environment.simulatedMachineDirectory, measurement: environment.simulatedMeasurement,
                releaseSigner: environment.releaseSigner, logger: logger)
        case .sgxGramine:
            return try GramineSGXPlatform(root: environment.gramineRoot)
        case .configfsTSM:
            // A provisioned key when configured; otherwise SNP's hardware derivation (TDX then has no key source
            // and fails when the node asks for its sealing key).
            let source: any SealingKeySource =
                environment.provisionedSealingKeyPath.map {
                    ProvisionedKeyFileSource(path: $0, releaseSigner: environment.releaseSigner)
                } ?? SNPDerivedKeySource(device: LinuxSNPGuestDevice(path: environment.snpGuestDevicePath))
            return try ConfigfsTSMPlatform(
                reportRoot: environment.configfsReportRoot, fileSystem: environment.configfsFileSystem, sealingKeySource: source)
        }
    }
}
