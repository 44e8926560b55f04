import Enclave
import Secp256k1
import SecureChannel

/// Lets EKEP assert whatever evidence this node's enclave platform produces (simulated now; the hardware platforms
/// plug in the same way once their EKEP appraisers exist).
public struct PlatformEvidenceProducer: EvidenceProducer {
    let platform: any EnclavePlatform

    public init(platform: any EnclavePlatform) { self.platform = platform }

    public var authorityType: String {
        switch platform.kind {
        case .simulated: return simulatedAuthorityType
        default: return "Darknode \(platform.kind)"
        }
    }

    public func produceEvidence(reportData: [UInt8]) throws(AssertionError) -> [UInt8] {
        do {
            return try platform.evidence(reportData: reportData).bytes
        } catch {
            throw .generationFailed("\(error)")
        }
    }
}

extension EKEPAuthenticator {
    /// An authenticator that asserts this node's platform evidence (bound to its identity key) and accepts
    /// simulated peers that `policy` allows.
    public static func forPlatform(
        _ platform: any EnclavePlatform, identity: PrivateKey, policy: any PeerAttestationPolicy
    ) throws -> EKEPAuthenticator {
        let generator = BoundEvidenceAssertionGenerator(producer: PlatformEvidenceProducer(platform: platform), identityKey: identity)
        let verifier = SimulatedAssertionVerifier(appraiser: SimulatedEvidenceAppraiser(), policy: policy)
        return EKEPAuthenticator(
            configuration: try HandshakeConfiguration(selfAssertions: [generator], acceptedPeerAssertions: [verifier]))
    }
}
