/// Requires the report data to carry the expected `ReportDataBinding` (identity key and nonce). Without it the
/// evidence could be replayed or belong to another node's key. Fails closed: a policy that requires a binding and
/// is given none rejects (a caller that forgot the binding must not get an unbound acceptance).
public struct ReportDataBindingPolicy: AttestationCheck {
    public let name = "ReportDataBindingPolicy"
    public init() {}

    public func evaluate(_ verified: VerifiedEvidence, context: PolicyContext) -> CheckResult {
        guard let binding = context.binding else { return .fails("no report-data binding was given to check the evidence against") }
        guard binding.isBound(in: verified) else {
            if binding.identityKey.isEmpty {
                return .fails("report data \(verified.reportData.hexString) is not the expected binding \(binding.reportData.hexString)")
            }
            return .fails("report data \(verified.reportData.hexString) is not the binding of identity key \(binding.identityKey.hexString) and nonce \(binding.nonce.hexString)")
        }
        return .passes
    }
}
