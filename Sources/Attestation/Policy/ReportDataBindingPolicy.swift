/// Requires the report data to carry the expected `ReportDataBinding` (identity key and nonce), when the caller
/// supplies one in the context. Without it the evidence could be replayed or belong to another node's key.
public struct ReportDataBindingPolicy: AttestationCheck {
    public let name = "ReportDataBindingPolicy"
    public init() {}

    public func evaluate(_ verified: VerifiedEvidence, context: PolicyContext) -> CheckResult {
        guard let binding = context.binding else { return .passes }
        guard binding.isBound(in: verified) else {
            return .fails("report data \(verified.reportData.hexString) is not the binding of identity key \(binding.identityKey.hexString) and nonce \(binding.nonce.hexString)")
        }
        return .passes
    }
}
