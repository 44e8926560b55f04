/// The `[enclave]` section of the node's configuration file (`ConfigurationFile`), and the commented default
/// `darknode init` writes. Other sections belong to the modules that read them.
public struct EnclaveConfiguration: Sendable, Equatable {
    /// Which platform to run on. `auto` never selects the simulated platform.
    public var platform: PlatformChoice = .auto
    /// Which identity the store's sealing key binds to (see `SealingPolicy`).
    public var sealingPolicy: SealingPolicy = .default
    /// configfs-tsm only: the provisioned 32-byte sealing root key (required on TDX; SNP falls back to its
    /// hardware-derived key).
    public var provisionedSealingKeyPath: String?
    /// The attestation policy peers are judged by (`policy.json`, the `PolicyDocument` format). Required on hardware.
    public var policyPath: String?
    /// The collateral cache directory (Intel PCS/PCCS and AMD KDS files; docs/attestation.md).
    public var collateralDirectory: String?

    public init(platform: PlatformChoice = .auto, sealingPolicy: SealingPolicy = .default, provisionedSealingKeyPath: String? = nil,
                policyPath: String? = nil, collateralDirectory: String? = nil) {
        self.platform = platform
        self.sealingPolicy = sealingPolicy
        self.provisionedSealingKeyPath = provisionedSealingKeyPath
        self.policyPath = policyPath
        self.collateralDirectory = collateralDirectory
    }

    public static let sectionName = "enclave"
    static let keys: Set<String> = ["platform", "sealing-policy", "provisioned-sealing-key", "policy", "collateral-dir"]

    /// Reads `[enclave]` from a whole configuration file's text, ignoring other sections.
    public static func parse(_ text: String) throws(ConfigurationError) -> EnclaveConfiguration {
        try EnclaveConfiguration(file: ConfigurationFile(text: text))
    }

    public init(file: ConfigurationFile) throws(ConfigurationError) {
        let section = try file.section(Self.sectionName, keys: Self.keys)
        if let choice = try section.choice("platform", as: PlatformChoice.self) { platform = choice }
        if let policy = try section.choice("sealing-policy", as: SealingPolicy.self) { sealingPolicy = policy }
        if let path = try section.string("provisioned-sealing-key") {
            guard !path.isEmpty else { throw .invalidValue(key: "enclave.provisioned-sealing-key", value: "\"\"", expected: "a file path") }
            provisionedSealingKeyPath = path
        }
        if let path = try section.string("policy") {
            guard !path.isEmpty else { throw .invalidValue(key: "enclave.policy", value: "\"\"", expected: "a file path") }
            policyPath = path
        }
        if let path = try section.string("collateral-dir") {
            guard !path.isEmpty else { throw .invalidValue(key: "enclave.collateral-dir", value: "\"\"", expected: "a directory path") }
            collateralDirectory = path
        }
    }

    /// The commented file `darknode init` writes.
    public var defaultFileText: String {
        """
        # Darknode node configuration, written by `darknode init`.
        # Command-line flags override the values here. Other sections are added by the modules that own them.

        [enclave]
        # Which trusted execution environment this node runs in:
        #   "auto"          real hardware only: Gramine SGX (/dev/attestation), then configfs-tsm (TDX, SEV-SNP).
        #                   If neither is present the node refuses to start; it never falls back to "simulated".
        #   "sgx-gramine"   Intel SGX under Gramine.
        #   "configfs-tsm"  Intel TDX or AMD SEV-SNP confidential VM (TDX needs provisioned-sealing-key).
        #   "simulated"     INSECURE: no hardware protection. Development, tests and localnets only; only
        #                   verifiers whose policy allows simulation accept its evidence.
        platform = "\(platform.rawValue)"

        # Which enclave identity the store's sealing key is bound to:
        #   "measurement"   this exact build (default). An upgraded build starts with an empty store and is
        #                   given fresh key shares at the next epoch.
        #   "signer"        any build signed by the release signer. Upgrades keep their data, but an older
        #                   signed build could read it too.
        sealing-policy = "\(sealingPolicy.rawValue)"

        # configfs-tsm only: a file holding the 32-byte sealing root key that a key service released to this VM
        # after verifying its evidence. Required on TDX (no hardware sealing key); SEV-SNP without it uses the
        # key its secure processor derives (SNP_GET_DERIVED_KEY on /dev/sev-guest).
        \(provisionedSealingKeyPath.map { "provisioned-sealing-key = \"\($0)\"" } ?? "# provisioned-sealing-key = \"/run/darknode/sealing.key\"")

        # The attestation policy peers must meet (JSON: release manifest, minimum TCB, debug, SNP floor...).
        # Required on hardware: `darknode run` refuses to start without it.
        \(policyPath.map { "policy = \"\($0)\"" } ?? "# policy = \"/etc/darknode/policy.json\"")

        # Collateral cache for appraising peers (intel/*.json from Intel PCS/PCCS, amd/*.der from AMD KDS).
        \(collateralDirectory.map { "collateral-dir = \"\($0)\"" } ?? "# collateral-dir = \"/var/lib/darknode/collateral\"")

        """
    }
}
