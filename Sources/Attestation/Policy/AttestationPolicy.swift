import Foundation

/// The outcome of a policy: accepted, or rejected with one reason per failed check.
public enum PolicyDecision: Sendable, Hashable {
    case accepted
    /// Each reason starts with the name of the check that failed.
    case rejected([String])

    public var isAccepted: Bool { self == .accepted }
    public var reasons: [String] {
        if case .rejected(let r) = self { return r }
        return []
    }
}

/// One check's result. The failure text is built lazily, so passing checks cost nothing.
public enum CheckResult: Sendable {
    case passes
    case fails(String)
}

/// What a check may consult beside the evidence.
public struct PolicyContext: Sendable {
    /// "Now" for freshness and grace-list dates.
    public var time: Date
    /// The binding the evidence must carry (identity key and nonce), if the caller expects one.
    public var binding: ReportDataBinding?

    public init(time: Date, binding: ReportDataBinding? = nil) {
        self.time = time
        self.binding = binding
    }
}

/// A single acceptance rule, in the style of swift-certificates' `VerifierPolicy`: small, named, and saying why
/// it rejected.
public protocol AttestationCheck: Sendable {
    /// Prefixed to every rejection reason (e.g. "DebugForbiddenPolicy").
    var name: String { get }
    func evaluate(_ verified: VerifiedEvidence, context: PolicyContext) -> CheckResult
}

/// Decides whether authentic evidence is acceptable, by running every check and collecting the reasons of those
/// that fail (all of them, so an operator sees every problem at once).
public struct AttestationPolicy: Sendable {
    public var checks: [any AttestationCheck]

    public init(checks: [any AttestationCheck]) {
        self.checks = checks
    }

    /// The usual production composition.
    /// - Parameters:
    ///   - manifest: accepted measurements per platform (a verified release manifest); nil skips the check.
    ///   - minimumTCB: the lowest Intel TCB status accepted outright; `grace` admits worse ones until a date.
    ///   - maximumAge: how old the evidence (or its verification) may be; nil skips the check.
    ///   - allowSimulation: accept simulated evidence (development and CI only).
    ///   - snp: the SEV-SNP floor (guest policy bits, VMPL, per-component reported TCB); other platforms pass it.
    public init(manifest: ReleaseManifest? = nil, allowDebug: Bool = false, minimumTCB: TCBStatus = .upToDate,
                grace: [TCBLevelPolicy.Grace] = [], requireIntelCollateral: Bool = true, maximumAge: TimeInterval? = nil,
                allowSimulation: Bool = false, requireBinding: Bool = true, snp: SNPPolicy = SNPPolicy()) {
        var checks: [any AttestationCheck] = [SimulationPolicy(allowSimulation: allowSimulation)]
        if !allowDebug { checks.append(DebugForbiddenPolicy()) }
        checks.append(TCBLevelPolicy(minimum: minimumTCB, grace: grace, requireIntelCollateral: requireIntelCollateral))
        if let manifest { checks.append(MeasurementPolicy(manifest: manifest)) }
        if requireBinding { checks.append(ReportDataBindingPolicy()) }
        if let maximumAge { checks.append(FreshnessPolicy(maximumAge: maximumAge)) }
        checks.append(snp)
        self.checks = checks
    }

    /// What `darknode attest verify` applies without `--policy`: authenticity only, plus what authenticity
    /// reports (debug, TCB level found via collateral where the platform has one, no simulation).
    public static let authenticity = AttestationPolicy(checks: [
        SimulationPolicy(allowSimulation: false), DebugForbiddenPolicy(),
        TCBLevelPolicy(minimum: .revoked, grace: [], requireIntelCollateral: true),
    ])

    public func evaluate(_ verified: VerifiedEvidence, context: PolicyContext) -> PolicyDecision {
        var reasons: [String] = []
        for check in checks {
            if case .fails(let why) = check.evaluate(verified, context: context) { reasons.append("\(check.name): \(why)") }
        }
        return reasons.isEmpty ? .accepted : .rejected(reasons)
    }

    public func evaluate(_ verified: VerifiedEvidence, binding: ReportDataBinding? = nil, at time: Date) -> PolicyDecision {
        evaluate(verified, context: PolicyContext(time: time, binding: binding))
    }
}
