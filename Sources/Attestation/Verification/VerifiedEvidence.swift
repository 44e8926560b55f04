import Foundation

/// Intel's TCB statuses (TCB info v3 / QE identity v2), plus `notEvaluated` for platforms and evidence that carry
/// no status of their own (SEV-SNP, Nitro, simulated, or Intel evidence verified without collateral).
public enum TCBStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case upToDate = "UpToDate"
    case swHardeningNeeded = "SWHardeningNeeded"
    case configurationNeeded = "ConfigurationNeeded"
    case configurationAndSWHardeningNeeded = "ConfigurationAndSWHardeningNeeded"
    case outOfDate = "OutOfDate"
    case outOfDateConfigurationNeeded = "OutOfDateConfigurationNeeded"
    case revoked = "Revoked"
    case notEvaluated = "NotEvaluated"

    /// Higher is better; used by the minimum-TCB policy. `notEvaluated` ranks nowhere (nil).
    public var rank: Int? {
        switch self {
        case .upToDate: return 6
        case .swHardeningNeeded: return 5
        case .configurationNeeded: return 4
        case .configurationAndSWHardeningNeeded: return 3
        case .outOfDate: return 2
        case .outOfDateConfigurationNeeded: return 1
        case .revoked: return 0
        case .notEvaluated: return nil
        }
    }

    /// What a status says is wrong: Intel's statuses are combinations of these.
    struct Findings: OptionSet {
        let rawValue: UInt8
        static let swHardeningNeeded = Findings(rawValue: 1)
        static let configurationNeeded = Findings(rawValue: 2)
        static let outOfDate = Findings(rawValue: 4)
        static let revoked = Findings(rawValue: 8)
    }

    var findings: Findings? {
        switch self {
        case .upToDate: return []
        case .swHardeningNeeded: return [.swHardeningNeeded]
        case .configurationNeeded: return [.configurationNeeded]
        case .configurationAndSWHardeningNeeded: return [.configurationNeeded, .swHardeningNeeded]
        case .outOfDate: return [.outOfDate]
        case .outOfDateConfigurationNeeded: return [.outOfDate, .configurationNeeded]
        case .revoked: return [.revoked]
        case .notEvaluated: return nil
        }
    }

    init(findings: Findings) {
        if findings.contains(.revoked) {
            self = .revoked
        } else if findings.contains(.outOfDate) {
            // Intel has no OutOfDate + SWHardeningNeeded status: out of date covers the hardening.
            self = findings.contains(.configurationNeeded) ? .outOfDateConfigurationNeeded : .outOfDate
        } else if findings.contains(.configurationNeeded) {
            self = findings.contains(.swHardeningNeeded) ? .configurationAndSWHardeningNeeded : .configurationNeeded
        } else {
            self = findings.contains(.swHardeningNeeded) ? .swHardeningNeeded : .upToDate
        }
    }

    /// The convergence of two statuses (the platform's TCB level with the QE's, or with the TDX module's), as
    /// Intel's QVL converges them: everything either says is wrong is wrong. So OutOfDate + ConfigurationNeeded is
    /// OutOfDateConfigurationNeeded (not the "worse" OutOfDate), a Revoked part revokes the whole, and UpToDate
    /// changes nothing. Not evaluated with anything is not evaluated.
    func combined(with other: TCBStatus) -> TCBStatus {
        guard let a = findings, let b = other.findings else { return .notEvaluated }
        return TCBStatus(findings: a.union(b))
    }
}

/// The security level the evidence was evaluated at.
public struct TCBEvaluation: Sendable, Hashable {
    public let status: TCBStatus
    /// Intel security advisories (INTEL-SA-xxxxx) that apply to the matched TCB level(s).
    public let advisoryIDs: [String]
    /// The matched platform TCB level's tcbDate.
    public let tcbDate: Date?
    /// The Quoting Enclave's own status (Intel only).
    public let qeStatus: TCBStatus?

    public init(status: TCBStatus, advisoryIDs: [String] = [], tcbDate: Date? = nil, qeStatus: TCBStatus? = nil) {
        self.status = status
        self.advisoryIDs = advisoryIDs
        self.tcbDate = tcbDate
        self.qeStatus = qeStatus
    }
}

/// Evidence whose signatures, certificate chain and (when given) collateral have been checked.
///
/// Only `EvidenceVerifier` creates values of this type (the initialiser is internal), so a function that takes a
/// `VerifiedEvidence` knows authenticity was checked. Whether it is *acceptable* is `AttestationPolicy`'s job.
public struct VerifiedEvidence: Sendable, Hashable {
    public let platform: AttestationPlatform
    /// Named measurements, lower-case hex values. Names per platform:
    /// - sgx: `mrenclave`, `mrsigner`, `isvprodid`, `isvsvn`, `attributes`, `configid`, `configsvn`, `isvextprodid`, `isvfamilyid`
    /// - tdx: `mrtd`, `rtmr0`…`rtmr3`, `mrseam`, `mrsignerseam`, `tdattributes`, `xfam`, `mrconfigid`, `mrowner`, `mrownerconfig`, `teetcbsvn`
    /// - sev-snp: `measurement`, `hostdata`, `policy`, `vmpl`, `guestsvn`, `familyid`, `imageid`, `idkeydigest`, `authorkeydigest`, `reportedtcb`, `chipid`
    /// - nitro: `pcr0`…`pcr31` (those present), `moduleid` (UTF-8 bytes)
    /// - simulated: `measurement`
    /// Integers are encoded as big-endian hex of their natural width (e.g. `isvsvn` "0000").
    public let measurements: [String: [UInt8]]
    /// The bytes the attested code bound (64 bytes; Nitro's `user_data`).
    public let reportData: [UInt8]
    public let tcb: TCBEvaluation
    /// The platform reports that the host can inspect or alter the guest (SGX/TDX attribute, SNP policy bit,
    /// Nitro PCR0-2 zero).
    public let isDebug: Bool
    /// When the evidence says it was produced (Nitro timestamp); nil where the format carries no time.
    public let producedAt: Date?
    /// The time the chain and collateral were checked at.
    public let verifiedAt: Date
    /// Whether Intel collateral (TCB info, QE identity, CRLs) was checked.
    public let collateralChecked: Bool
    /// Whether the vendor's revocation list for the chain was checked: Intel's PCK and root CRLs (part of its
    /// collateral), AMD's KDS CRL for the report's ARK. `SNPPolicy(requireCRL:)` reads it for SEV-SNP.
    public let revocationChecked: Bool

    init(platform: AttestationPlatform, measurements: [String: [UInt8]], reportData: [UInt8], tcb: TCBEvaluation,
         isDebug: Bool, producedAt: Date? = nil, verifiedAt: Date, collateralChecked: Bool, revocationChecked: Bool = false) {
        self.platform = platform
        self.measurements = measurements
        self.reportData = reportData
        self.tcb = tcb
        self.isDebug = isDebug
        self.producedAt = producedAt
        self.verifiedAt = verifiedAt
        self.collateralChecked = collateralChecked
        self.revocationChecked = revocationChecked
    }
}

extension FixedWidthInteger {
    /// Big-endian bytes of the value's natural width.
    var bigEndianBytes: [UInt8] {
        (0..<(Self.bitWidth / 8)).reversed().map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) }
    }
}
