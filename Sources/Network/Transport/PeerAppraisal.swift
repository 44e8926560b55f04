import Attestation
import Enclave
import Foundation
import SecureChannel

/// How this node judges its peers' evidence, at the handshake and at every re-attestation: one appraiser per
/// evidence format it accepts, the policy, and the report data the evidence must carry.
public struct PeerAppraisal: Sendable {
    public var appraisers: [any EvidenceAppraiser]
    public var policy: any PeerAttestationPolicy
    /// `BoundReportData` in production (see `ReportDataExpectation`).
    public var expectation: any ReportDataExpectation

    public init(appraisers: [any EvidenceAppraiser], policy: any PeerAttestationPolicy,
                expectation: any ReportDataExpectation = BoundReportData())
    {
        self.appraisers = appraisers
        self.policy = policy
        self.expectation = expectation
    }

    /// Simulated peers only (development nodes without a policy file).
    public static func simulated(policy: any PeerAttestationPolicy) -> PeerAppraisal {
        PeerAppraisal(appraisers: [SimulatedEvidenceAppraiser()], policy: policy)
    }

    /// SGX (DCAP), TDX, SEV-SNP and Nitro evidence verified against the pinned vendor roots with collateral from
    /// `collateral`, judged by `policy`; simulated evidence too only when `acceptSimulatedFormat` (a simulated
    /// node: the policy must still allow simulation).
    public static func hardware(
        policy: AttestationPolicy, collateral: CollateralCache?, acceptSimulatedFormat: Bool = false,
        verifier: EvidenceVerifier = EvidenceVerifier(), clock: @escaping @Sendable () -> Date = { Date() },
        expectation: any ReportDataExpectation = BoundReportData()
    ) -> PeerAppraisal {
        var appraisers: [any EvidenceAppraiser] = [AttestationPlatform.sgx, .tdx, .sevSNP, .nitro].map {
            HardwareEvidenceAppraiser(platform: $0, collateral: collateral, verifier: verifier, clock: clock)
        }
        if acceptSimulatedFormat { appraisers.append(SimulatedEvidenceAppraiser()) }
        return PeerAppraisal(appraisers: appraisers, policy: AttestationPeerPolicy(policy: policy, clock: clock), expectation: expectation)
    }

    /// The appraiser for evidence a peer labelled with an enclave platform name (`EnclavePlatformKind.rawValue`).
    func appraiser(forPlatformNamed name: String) -> (any EvidenceAppraiser)? {
        guard let kind = EnclavePlatformKind(rawValue: name) else { return nil }
        let authority = HardwareAuthority.authorityType(for: kind.attestationPlatform)
        return appraisers.first { $0.authorityType == authority }
    }

    /// One EKEP verifier per appraiser.
    func assertionVerifiers() -> [any AssertionVerifier] {
        appraisers.map { verifier(for: $0) }
    }

    private func verifier<A: EvidenceAppraiser>(for appraiser: A) -> any AssertionVerifier {
        BoundEvidenceAssertionVerifier(appraiser: appraiser, policy: policy, expectation: expectation)
    }
}

extension EnclavePlatformKind {
    /// The EKEP authority type of the evidence this platform produces.
    public var authorityType: String { HardwareAuthority.authorityType(for: attestationPlatform) }
}
