import Foundation

/// Requires an Intel TCB status at or above a floor, with an explicit, dated grace list: a status below the floor
/// is still accepted until its grace date, so that an Intel TCB recovery (which moves many platforms to
/// `OutOfDate` or `SWHardeningNeeded` on one day) does not silently evict half a shard before operators patch.
/// `Revoked` is never accepted. Platforms without Intel TCB statuses (SEV-SNP, Nitro, simulated) pass.
public struct TCBLevelPolicy: AttestationCheck {
    /// Accept `status` (and better) until `until`.
    public struct Grace: Sendable, Hashable, Codable {
        public var status: TCBStatus
        public var until: Date
        public init(status: TCBStatus, until: Date) {
            self.status = status
            self.until = until
        }
    }

    public let name = "TCBLevelPolicy"
    public let minimum: TCBStatus
    public let grace: [Grace]
    /// Intel evidence verified without collateral has no TCB level: reject it when true.
    public let requireIntelCollateral: Bool

    public init(minimum: TCBStatus, grace: [Grace] = [], requireIntelCollateral: Bool = true) {
        self.minimum = minimum
        self.grace = grace
        self.requireIntelCollateral = requireIntelCollateral
    }

    public func evaluate(_ verified: VerifiedEvidence, context: PolicyContext) -> CheckResult {
        guard verified.platform == .sgx || verified.platform == .tdx else { return .passes }
        let status = verified.tcb.status
        guard let rank = status.rank else {
            return requireIntelCollateral ? .fails("no collateral was checked, so the TCB level is unknown") : .passes
        }
        if status == .revoked { return .fails("TCB status Revoked is never accepted") }
        if let floor = minimum.rank, rank >= floor { return .passes }
        for entry in grace where entry.status.rank.map({ rank >= $0 }) ?? false && context.time <= entry.until {
            _ = entry
            return .passes
        }
        let advisories = verified.tcb.advisoryIDs.isEmpty ? "" : " (advisories \(verified.tcb.advisoryIDs.joined(separator: ", ")))"
        return .fails("TCB status \(status.rawValue) is below the minimum \(minimum.rawValue) and no grace entry covers it at \(context.time.formatted(.iso8601))\(advisories)")
    }
}
