/// The `[enclave]` section of the node's configuration file, and the commented default `darknode init` writes.
///
/// The file is TOML; this reader understands the subset the section uses (comments, `[section]` headers,
/// `key = "string"`), skips other sections (other modules own them) and rejects unknown keys in its own.
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

    /// Why the configuration file could not be read. Line numbers start at 1.
    public enum ParseError: Error, Equatable, Sendable {
        /// A line is neither a comment, a section header, nor `key = "value"`.
        case malformedLine(line: Int)
        /// A key in `[enclave]` this build does not know (a typo would otherwise be ignored silently).
        case unknownKey(line: Int, key: String)
        /// A value outside the key's allowed set.
        case invalidValue(line: Int, key: String, value: String)
        /// The file is larger than `fileBytesMax`.
        case tooLarge(Int)
    }

    /// A configuration file is written by hand; 64 KiB is far more than one needs.
    public static let fileBytesMax = 64 * 1024

    public static func parse(_ text: String) throws(ParseError) -> EnclaveConfiguration {
        guard text.utf8.count <= fileBytesMax else { throw .tooLarge(text.utf8.count) }
        var configuration = EnclaveConfiguration()
        var section = ""
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingSpaces()
            let number = index + 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw .malformedLine(line: number) }
                section = String(line.dropFirst().dropLast()).trimmingSpaces()
                continue
            }
            guard section == "enclave" else { continue }
            guard let (key, value) = keyValue(line) else { throw .malformedLine(line: number) }
            try configuration.apply(key: key, value: value, line: number)
        }
        return configuration
    }

    private mutating func apply(key: String, value: String, line: Int) throws(ParseError) {
        switch key {
        case "platform":
            guard let choice = PlatformChoice(rawValue: value) else { throw .invalidValue(line: line, key: key, value: value) }
            platform = choice
        case "sealing-policy":
            guard let policy = SealingPolicy(rawValue: value) else { throw .invalidValue(line: line, key: key, value: value) }
            sealingPolicy = policy
        case "provisioned-sealing-key":
            guard !value.isEmpty else { throw .invalidValue(line: line, key: key, value: value) }
            provisionedSealingKeyPath = value
        case "policy":
            guard !value.isEmpty else { throw .invalidValue(line: line, key: key, value: value) }
            policyPath = value
        case "collateral-dir":
            guard !value.isEmpty else { throw .invalidValue(line: line, key: key, value: value) }
            collateralDirectory = value
        default:
            throw .unknownKey(line: line, key: key)
        }
    }

    /// `key = "value"`, with an optional trailing comment after the closing quote. Values hold no escapes.
    private static func keyValue(_ line: String) -> (String, String)? {
        guard let equals = line.firstIndex(of: "=") else { return nil }
        let key = String(line[..<equals]).trimmingSpaces()
        var rest = Substring(String(line[line.index(after: equals)...]).trimmingSpaces())
        guard !key.isEmpty, rest.first == "\"" else { return nil }
        rest = rest.dropFirst()
        guard let close = rest.firstIndex(of: "\"") else { return nil }
        let value = String(rest[..<close])
        let tail = String(rest[rest.index(after: close)...]).trimmingSpaces()
        guard tail.isEmpty || tail.hasPrefix("#"), !value.contains("\\") else { return nil }
        return (key, value)
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

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" || first == "\r" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" || last == "\r" { view = view.dropLast() }
        return String(view)
    }
}
