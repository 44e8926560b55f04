#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Attestation
import Secp256k1

/// The report data a peer's evidence must carry: its identity key bound to this handshake (EKEP) or to this
/// re-attestation challenge. `BoundReportData` is the only production implementation.
///
/// It is a protocol so that tests can run real hardware samples, whose report data is fixed at capture, through
/// the full handshake and re-attestation paths (docs/attestation.md, "Hardware appraisal in EKEP").
public protocol ReportDataExpectation: Sendable {
    /// EKEP: what evidence asserted in a handshake with this binding blob must carry.
    func handshake(identityKey: PublicKey, bindingBlob: [UInt8]) -> [UInt8]
    /// Re-attestation: what evidence answering `nonce` (1...64 bytes) must carry.
    func challenge(identityKey: PublicKey, nonce: [UInt8]) -> [UInt8]
}

/// The production binding: `BoundEvidence.reportData` for handshakes, `ReportDataBinding` for challenges.
public struct BoundReportData: ReportDataExpectation {
    public init() {}

    public func handshake(identityKey: PublicKey, bindingBlob: [UInt8]) -> [UInt8] {
        BoundEvidence.reportData(identityKey: identityKey, bindingBlob: bindingBlob)
    }

    public func challenge(identityKey: PublicKey, nonce: [UInt8]) -> [UInt8] {
        // A nonce no binding can hold is bound by nothing: 64 bytes no digest equals in practice would still be
        // a guess, so an impossible (empty) expectation fails every comparison instead.
        guard nonce.count <= ReportDataBinding.maximumNonceLength else { return [] }
        return ReportDataBinding(identityKey: identityKey, nonce: nonce).reportData
    }
}

/// The EKEP authority type of each hardware evidence format (CODE_IDENTITY assertions).
public enum HardwareAuthority {
    public static func authorityType(for platform: AttestationPlatform) -> String {
        switch platform {
        case .sgx: "Darknode SGX DCAP"
        case .tdx: "Darknode TDX"
        case .sevSNP: "Darknode SEV-SNP"
        case .nitro: "Darknode Nitro"
        case .simulated: simulatedAuthorityType
        }
    }

    /// The measurement an `AppraisedEvidence` reports for each platform (the one that names the code).
    static func primaryMeasurement(_ verified: VerifiedEvidence) -> [UInt8] {
        let name: String =
            switch verified.platform {
            case .sgx: "mrenclave"
            case .tdx: "mrtd"
            case .sevSNP, .simulated: "measurement"
            case .nitro: "pcr0"
            }
        return verified.measurements[name] ?? []
    }
}

/// Appraises one hardware evidence format with the Attestation module's `EvidenceVerifier`: the vendor chain to the
/// pinned root, the signatures, and (Intel, AMD) collateral from the node's `CollateralCache`, at the clock's time.
/// Whether the verified evidence is acceptable is `AttestationPeerPolicy`'s decision.
public struct HardwareEvidenceAppraiser: EvidenceAppraiser {
    public let platform: AttestationPlatform
    let verifier: EvidenceVerifier
    let collateral: CollateralCache?
    let clock: @Sendable () -> Date

    /// - Parameters:
    ///   - collateral: nil verifies without collateral (Intel TCB is then `NotEvaluated`, which the default policy
    ///     refuses; SNP then has no VCEK and fails).
    ///   - clock: the verification time (tests pass the samples' fixed time; certificates expire).
    public init(platform: AttestationPlatform, collateral: CollateralCache?, verifier: EvidenceVerifier = EvidenceVerifier(),
                clock: @escaping @Sendable () -> Date = { Date() })
    {
        precondition(platform != .simulated, "simulated evidence has its own appraiser")
        self.platform = platform
        self.verifier = verifier
        self.collateral = collateral
        self.clock = clock
    }

    public var authorityType: String { HardwareAuthority.authorityType(for: platform) }

    public func appraise(_ evidence: [UInt8]) throws(AssertionError) -> AppraisedEvidence {
        let time = clock()
        let parsed: Evidence
        do { parsed = try Evidence.parse(evidence, platform: platform) } catch {
            throw .malformed("\(platform.rawValue) evidence: \(error)")
        }
        let verified: VerifiedEvidence
        do {
            let supplied = try collateral?.collateral(for: parsed, at: time) ?? Collateral()
            verified = try verifier.verify(parsed, collateral: supplied, at: time)
        } catch {
            throw .evidenceSignatureInvalid("\(platform.rawValue): \(error)")
        }
        return AppraisedEvidence(
            authorityType: authorityType, measurement: HardwareAuthority.primaryMeasurement(verified),
            reportData: verified.reportData, isSimulated: false, platformKey: nil, rawEvidence: evidence, verified: verified)
    }
}

/// A peer policy that is the Attestation module's `AttestationPolicy` (release manifest, minimum TCB, debug,
/// freshness, SNP floor, simulation) applied to what the appraiser verified, with the handshake's or challenge's
/// report-data binding as `ReportDataBindingPolicy`'s expectation.
public struct AttestationPeerPolicy: PeerAttestationPolicy {
    public let policy: AttestationPolicy
    let clock: @Sendable () -> Date

    public init(policy: AttestationPolicy, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.policy = policy
        self.clock = clock
    }

    /// Without a binding there is nothing to tie the evidence to this peer: refused (fails closed).
    public func evaluate(evidence: AppraisedEvidence, identityKey: PublicKey) -> PeerPolicyDecision {
        .rejected(reason: "AttestationPeerPolicy: no report-data binding was given")
    }

    public func evaluate(evidence: AppraisedEvidence, identityKey: PublicKey, expectedReportData: [UInt8]) -> PeerPolicyDecision {
        let time = clock()
        let verified: VerifiedEvidence
        if let hardware = evidence.verified {
            verified = hardware
        } else {
            // The simulated appraiser checked the signature already; the policy still sees it as simulated.
            guard evidence.isSimulated, let simulated = try? SimulatedEvidence(bytes: evidence.rawEvidence),
                let checked = try? simulated.verified(at: time)
            else { return .rejected(reason: "AttestationPeerPolicy: evidence was not verified") }
            verified = checked
        }
        switch policy.evaluate(verified, binding: ReportDataBinding(expectedReportData: expectedReportData), at: time) {
        case .accepted: return .accepted
        case .rejected(let reasons): return .rejected(reason: reasons.joined(separator: "; "))
        }
    }
}
