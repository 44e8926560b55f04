import Enclave
import Secp256k1
import SecureChannel

/// Lets EKEP assert whatever evidence this node's enclave platform produces (simulated, SGX under Gramine, TDX or
/// SEV-SNP through configfs-tsm), under that format's authority type.
public struct PlatformEvidenceProducer: EvidenceProducer {
    let platform: any EnclavePlatform

    public init(platform: any EnclavePlatform) { self.platform = platform }

    public var authorityType: String { platform.kind.authorityType }

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
        try forPlatform(platform, identity: identity, appraisal: .simulated(policy: policy))
    }

    /// An authenticator that asserts this node's platform evidence (bound to its identity key) and accepts peers
    /// whose evidence one of `appraisal`'s appraisers verifies, bound to the handshake, and its policy accepts.
    public static func forPlatform(
        _ platform: any EnclavePlatform, identity: PrivateKey, appraisal: PeerAppraisal
    ) throws -> EKEPAuthenticator {
        let generator = BoundEvidenceAssertionGenerator(producer: PlatformEvidenceProducer(platform: platform), identityKey: identity)
        return EKEPAuthenticator(
            configuration: try HandshakeConfiguration(selfAssertions: [generator], acceptedPeerAssertions: appraisal.assertionVerifiers()))
    }
}
