/// Rejects evidence from a debuggable enclave, TD or VM: its host can read and change its memory, so its
/// measurement says nothing about what runs.
public struct DebugForbiddenPolicy: AttestationCheck {
    public let name = "DebugForbiddenPolicy"
    public init() {}

    public func evaluate(_ verified: VerifiedEvidence, context: PolicyContext) -> CheckResult {
        guard verified.isDebug else { return .passes }
        switch verified.platform {
        case .sgx: return .fails("SGX enclave has the DEBUG attribute set")
        case .tdx: return .fails("TD has the DEBUG attribute set")
        case .sevSNP: return .fails("SEV-SNP guest policy allows debugging (POLICY bit 19)")
        case .nitro: return .fails("Nitro enclave runs in debug mode (PCR0-2 are zero)")
        case .simulated: return .fails("simulated evidence reports debug")
        }
    }
}
