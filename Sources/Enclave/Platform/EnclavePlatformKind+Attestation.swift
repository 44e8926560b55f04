import Attestation

extension EnclavePlatformKind {
    /// The evidence format this platform produces, as the Attestation module's verifier names it (Gramine serves
    /// plain SGX DCAP quotes; configfs-tsm serves TDX quotes or SNP reports).
    public var attestationPlatform: AttestationPlatform {
        switch self {
        case .simulated: .simulated
        case .sgxGramine: .sgx
        case .tdx: .tdx
        case .sevSNP: .sevSNP
        }
    }
}
