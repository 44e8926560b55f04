import Foundation

/// Rejects stale evidence: a Nitro document older than `maximumAge` (it carries its own timestamp), and any
/// verification result older than `maximumAge` (a cached `VerifiedEvidence` must be re-verified). Platforms
/// without timestamps prove freshness through the nonce in `ReportDataBinding`.
public struct FreshnessPolicy: AttestationCheck {
    public let name = "FreshnessPolicy"
    public let maximumAge: TimeInterval
    public init(maximumAge: TimeInterval) { self.maximumAge = maximumAge }

    public func evaluate(_ verified: VerifiedEvidence, context: PolicyContext) -> CheckResult {
        if let produced = verified.producedAt {
            if produced > context.time.addingTimeInterval(60) { return .fails("evidence claims to be produced in the future (\(produced.formatted(.iso8601)))") }
            if context.time.timeIntervalSince(produced) > maximumAge { return .fails("evidence produced at \(produced.formatted(.iso8601)) is older than \(Int(maximumAge)) s") }
        }
        if context.time.timeIntervalSince(verified.verifiedAt) > maximumAge {
            return .fails("verification at \(verified.verifiedAt.formatted(.iso8601)) is older than \(Int(maximumAge)) s")
        }
        return .passes
    }
}
