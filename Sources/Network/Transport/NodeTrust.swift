import Attestation
import Enclave
import Foundation
import SecureChannel

/// How a node started from its data directory judges peers: on hardware, only by the policy file its
/// configuration names (`policy.json`, the `PolicyDocument` format) and the collateral cache directory.
public enum NodeTrust {
    /// Why a node cannot start with the trust configuration it was given.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// A hardware node must be told which peers to trust; without a policy it would trust none or all.
        case policyRequired(platform: String)
        case policyUnreadable(path: String, reason: String)
        case policyInvalid(path: String, reason: String)
        /// A node's policy must not pin one report-data binding: every handshake and challenge brings its own.
        case policyPinsBinding(path: String)
        case collateral(CollateralDirectory.Failure)

        public var description: String {
            switch self {
            case .policyRequired(let p):
                "a \(p) node needs an attestation policy (policy.json): pass --policy FILE or set policy in [enclave]"
            case .policyUnreadable(let path, let r): "policy \(path): cannot read: \(r)"
            case .policyInvalid(let path, let r): "policy \(path): \(r)"
            case .policyPinsBinding(let path): "policy \(path): reportDataBinding is per handshake and must not be set in a node's policy"
            case .collateral(let e): e.description
            }
        }
    }

    /// The appraisal for a node on `platform`, or nil for a simulated node without a policy file (which keeps the
    /// development default: simulated peers with an allowed measurement).
    public static func appraisal(
        platform: EnclavePlatformKind, policyPath: String?, collateralDirectory: String?,
        clock: @escaping @Sendable () -> Date = { Date() }, expectation: any ReportDataExpectation = BoundReportData()
    ) throws(Failure) -> PeerAppraisal? {
        guard let policyPath else {
            if platform == .simulated { return nil }
            throw .policyRequired(platform: platform.rawValue)
        }
        let policy = try nodePolicy(path: policyPath)
        var cache: CollateralCache?
        if let collateralDirectory {
            do { cache = try CollateralDirectory.load(collateralDirectory) } catch { throw .collateral(error) }
        }
        return PeerAppraisal.hardware(
            policy: policy, collateral: cache, acceptSimulatedFormat: platform == .simulated, clock: clock, expectation: expectation)
    }

    /// Reads a node's policy file; the report-data binding check is always part of it.
    public static func nodePolicy(path: String) throws(Failure) -> AttestationPolicy {
        let bytes: [UInt8]
        do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw .policyUnreadable(path: path, reason: "\(error)")
        }
        let document: PolicyDocument
        do { document = try PolicyDocument(json: bytes) } catch { throw .policyInvalid(path: path, reason: error.description) }
        guard document.binding == nil else { throw .policyPinsBinding(path: path) }
        var policy = document.policy
        if !policy.checks.contains(where: { $0 is ReportDataBindingPolicy }) { policy.checks.append(ReportDataBindingPolicy()) }
        return policy
    }
}
