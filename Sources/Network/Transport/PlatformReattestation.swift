import Enclave
import Secp256k1
import SecureChannel

/// Wires the mesh's periodic re-attestation to this node's enclave platform and its peer policy.
///
/// The handshake proves a peer was in policy when it connected; re-attestation keeps proving it over the live
/// channel. A challenge is a fresh nonce; the answer is platform evidence whose report data is
/// `IdentityReportData(identity key, nonce)`, so it cannot be replayed from an earlier challenge or another node.
/// The answer is appraised by the same appraisers as the handshake (hardware: `HardwareEvidenceAppraiser`) and
/// judged by the same policy.
public enum PlatformReattestation {
    /// Why an answer to a re-attestation challenge is refused.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// The peer answered with evidence of a platform this node has no appraiser for.
        case unsupportedPlatform(String)
        /// The evidence does not parse or its signature does not verify.
        case appraisalFailed(String)
        /// The report data does not bind the peer's identity key and this challenge's nonce.
        case reportDataMismatch
        /// The evidence is authentic but the policy no longer accepts it.
        case policyRejected(String)

        public var description: String {
            switch self {
            case .unsupportedPlatform(let p): "no appraiser for platform \(p)"
            case .appraisalFailed(let why): "evidence appraisal failed: \(why)"
            case .reportDataMismatch: "report data does not bind the peer's identity key and the challenge nonce"
            case .policyRejected(let why): "policy rejected the evidence: \(why)"
            }
        }
    }

    /// Installs the responder and a checker for simulated peers that `policy` allows.
    public static func install(
        in configuration: inout MeshConfiguration, platform: any EnclavePlatform, policy: any PeerAttestationPolicy
    ) {
        install(in: &configuration, platform: platform, appraisal: .simulated(policy: policy))
    }

    /// Installs the responder (answers challenges with this platform's evidence) and the checker (appraises a
    /// peer's answer with `appraisal`, the handshake's appraisers and policy).
    public static func install(
        in configuration: inout MeshConfiguration, platform: any EnclavePlatform, appraisal: PeerAppraisal
    ) {
        let identityKey = configuration.identity.publicKey
        configuration.attestationResponder = { nonce in
            let reportData = try IdentityReportData.reportData(
                identityKey: identityKey, nonce: nonce, size: platform.reportDataSize)
            return (platform.kind.rawValue, try platform.evidence(reportData: reportData).bytes)
        }
        configuration.attestationChecker = { peer, platformName, evidence, nonce in
            do throws(Failure) {
                try check(peer: peer, platform: platformName, evidence: evidence, nonce: nonce, appraisal: appraisal)
                return nil
            } catch {
                return error.description
            }
        }
    }

    /// Checks one answer from a simulated peer against `policy`.
    public static func check(
        peer: PeerID, platform: String, evidence: [UInt8], nonce: [UInt8], policy: any PeerAttestationPolicy
    ) throws(Failure) {
        try check(peer: peer, platform: platform, evidence: evidence, nonce: nonce, appraisal: .simulated(policy: policy))
    }

    /// Checks one answer: appraisal, binding to the peer and the nonce, then the policy.
    public static func check(
        peer: PeerID, platform: String, evidence: [UInt8], nonce: [UInt8], appraisal: PeerAppraisal
    ) throws(Failure) {
        guard let appraiser = appraisal.appraiser(forPlatformNamed: platform) else { throw .unsupportedPlatform(platform) }
        let appraised: AppraisedEvidence
        do {
            appraised = try appraiser.appraise(evidence)
        } catch {
            throw .appraisalFailed("\(error)")
        }
        let expected = appraisal.expectation.challenge(identityKey: peer.publicKey, nonce: nonce)
        guard expected.count == appraised.reportData.count, expected == appraised.reportData else { throw .reportDataMismatch }
        if case .rejected(let reason) = appraisal.policy.evaluate(
            evidence: appraised, identityKey: peer.publicKey, expectedReportData: expected)
        {
            throw .policyRejected(reason)
        }
    }
}

extension MeshConfiguration {
    /// A node's mesh configuration: EKEP with this platform's evidence bound to `identity`, simulated peers judged
    /// by `policy` at the handshake and again at every re-attestation.
    public static func attested(
        identity: PrivateKey, platform: any EnclavePlatform, policy: any PeerAttestationPolicy, admitted: Set<PeerID>
    ) throws -> MeshConfiguration {
        try attested(identity: identity, platform: platform, appraisal: .simulated(policy: policy), admitted: admitted)
    }

    /// A node's mesh configuration: EKEP with this platform's evidence bound to `identity`, peers appraised by
    /// `appraisal` at the handshake and again at every re-attestation.
    public static func attested(
        identity: PrivateKey, platform: any EnclavePlatform, appraisal: PeerAppraisal, admitted: Set<PeerID>
    ) throws -> MeshConfiguration {
        let authenticator = try EKEPAuthenticator.forPlatform(platform, identity: identity, appraisal: appraisal)
        var configuration = MeshConfiguration(identity: identity, authenticator: authenticator, admitted: admitted)
        PlatformReattestation.install(in: &configuration, platform: platform, appraisal: appraisal)
        return configuration
    }
}
