/// Rejects simulated evidence unless explicitly allowed: it is signed by a software key, not a hardware root of
/// trust, and proves nothing about where the code runs.
public struct SimulationPolicy: AttestationCheck {
    public let name = "SimulationPolicy"
    public let allowSimulation: Bool
    public init(allowSimulation: Bool) { self.allowSimulation = allowSimulation }

    public func evaluate(_ verified: VerifiedEvidence, context: PolicyContext) -> CheckResult {
        guard verified.platform == .simulated, !allowSimulation else { return .passes }
        return .fails("simulated evidence is not accepted (no hardware root of trust)")
    }
}
