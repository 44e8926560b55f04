import Crypto

/// Which kind of trusted execution environment produced the evidence and sealing keys.
public enum EnclavePlatformKind: String, Sendable, CaseIterable, Codable {
    /// Development and CI only: no hardware protection at all.
    case simulated
    /// An Intel SGX enclave run by Gramine (`/dev/attestation`).
    case sgxGramine = "sgx-gramine"
    /// An Intel TDX confidential VM (configfs-tsm provider `tdx_guest`).
    case tdx
    /// An AMD SEV-SNP confidential VM (configfs-tsm provider `sev_guest`).
    case sevSNP = "sev-snp"

    /// The hardware vendor whose root of trust signs the evidence; admission limits how much of a shard one
    /// vendor may hold.
    public var vendor: EnclaveVendor {
        switch self {
        case .simulated: .simulated
        case .sgxGramine, .tdx: .intel
        case .sevSNP: .amd
        }
    }
}

/// The party whose root of trust vouches for evidence.
public enum EnclaveVendor: String, Sendable, Codable {
    case intel, amd, simulated
}

/// Which enclave identity a sealing key is bound to.
///
/// The trade-off: `.measurement` keys are readable only by this exact build, so a compromised older release can
/// never read what a newer one wrote, but an upgrade cannot read the old store. `.signer` keys are readable by any
/// build the release signer signed, so an upgrade keeps its data, but so could an older signed build with a known
/// bug (SGX limits that with ISVSVN; the other platforms do not). The default is `.measurement`: a node's secrets
/// (key shares, presignatures) are reshared to the new committee every epoch anyway, so an upgraded node can start
/// from an empty store and be given fresh shares instead of inheriting old ones.
public enum SealingPolicy: String, Sendable, CaseIterable, Codable {
    /// Bound to this exact enclave measurement (MRENCLAVE, MRTD, SNP MEASUREMENT, or the executable hash).
    case measurement
    /// Bound to the release signer (MRSIGNER on SGX, the configured release signer elsewhere).
    case signer

    /// See the type's documentation for why.
    public static let `default`: SealingPolicy = .measurement
}

/// What a platform returns when asked for evidence: the raw bytes in the platform's native format.
public struct PlatformEvidence: Sendable, Hashable {
    /// The platform that produced the bytes (and so the format they are in).
    public let kind: EnclavePlatformKind
    /// Exactly the bytes the platform produced: a simulated evidence record, an SGX/TDX DCAP quote, or an SNP
    /// attestation report.
    public let bytes: [UInt8]

    public init(kind: EnclavePlatformKind, bytes: [UInt8]) {
        self.kind = kind
        self.bytes = bytes
    }
}

/// A trusted execution environment as seen from inside it: evidence over data the enclave chooses, and sealing
/// keys that only this enclave identity (or its signer, by policy) can derive.
public protocol EnclavePlatform: Sendable {
    /// The kind of platform (and so the evidence format).
    var kind: EnclavePlatformKind { get }
    /// This enclave's measurement as the evidence reports it (32 bytes for SGX and simulated, 48 for TDX and SNP).
    var measurement: [UInt8] { get }
    /// How many report-data bytes the evidence carries (64 on every supported platform).
    var reportDataSize: Int { get }
    /// Evidence binding exactly `reportData` (which must be `reportDataSize` bytes long).
    func evidence(reportData: [UInt8]) throws(EnclaveError) -> PlatformEvidence
    /// A 256-bit key only this enclave identity can derive under `policy`.
    func sealingKey(policy: SealingPolicy) throws(EnclaveError) -> SymmetricKey
}

extension EnclavePlatform {
    public var vendor: EnclaveVendor { kind.vendor }
}
