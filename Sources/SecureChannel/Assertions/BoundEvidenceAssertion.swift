#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import Secp256k1

/// Produces platform evidence over chosen report data (a simulated platform, or SGX/TDX/SNP/Nitro hardware).
public protocol EvidenceProducer: Sendable {
    /// The EKEP authority type of this evidence kind (e.g. "Darknode Simulated").
    var authorityType: String { get }
    /// Evidence whose report data is exactly `reportData` (64 bytes).
    func produceEvidence(reportData: [UInt8]) throws(AssertionError) -> [UInt8]
}

/// Checks evidence's own signature or certificate chain and extracts what it vouches for. Deciding whether the
/// vouched-for measurement is acceptable is the policy's job, not the appraiser's.
public protocol EvidenceAppraiser: Sendable {
    /// The EKEP authority type of this evidence kind.
    var authorityType: String { get }
    /// Parses and signature-checks `evidence`.
    func appraise(_ evidence: [UInt8]) throws(AssertionError) -> AppraisedEvidence
}

/// Whether a verified peer may connect (`AttestationPeerPolicy` is the Attestation module's `AttestationPolicy`).
public protocol PeerAttestationPolicy: Sendable {
    func evaluate(evidence: AppraisedEvidence, identityKey: PublicKey) -> PeerPolicyDecision
    /// As above, after the caller has checked that the evidence carries `expectedReportData` (the binding of the
    /// identity key to this handshake or challenge), so a policy can check the binding itself too.
    func evaluate(evidence: AppraisedEvidence, identityKey: PublicKey, expectedReportData: [UInt8]) -> PeerPolicyDecision
}

extension PeerAttestationPolicy {
    public func evaluate(evidence: AppraisedEvidence, identityKey: PublicKey, expectedReportData: [UInt8]) -> PeerPolicyDecision {
        evaluate(evidence: evidence, identityKey: identityKey)
    }
}

/// A policy's answer; a rejection says why, starting with the policy's name.
public enum PeerPolicyDecision: Sendable, Equatable {
    case accepted
    case rejected(reason: String)
}

/// A policy given as a closure.
public struct ClosurePeerAttestationPolicy: PeerAttestationPolicy {
    let decide: @Sendable (AppraisedEvidence, PublicKey) -> PeerPolicyDecision
    public init(_ decide: @escaping @Sendable (AppraisedEvidence, PublicKey) -> PeerPolicyDecision) {
        self.decide = decide
    }
    public func evaluate(evidence: AppraisedEvidence, identityKey: PublicKey) -> PeerPolicyDecision {
        decide(evidence, identityKey)
    }
}

/// The minimal policy: an allow-list of measurements, and simulated evidence only when explicitly allowed
/// (optionally only from known simulated platform keys).
public struct MeasurementAllowListPolicy: PeerAttestationPolicy {
    public var allowedMeasurements: Set<[UInt8]>
    public var allowSimulation: Bool
    /// When set, simulated evidence must be signed by one of these platform keys.
    public var allowedSimulatedPlatformKeys: Set<PublicKey>?

    public init(allowedMeasurements: Set<[UInt8]>, allowSimulation: Bool,
                allowedSimulatedPlatformKeys: Set<PublicKey>? = nil)
    {
        self.allowedMeasurements = allowedMeasurements
        self.allowSimulation = allowSimulation
        self.allowedSimulatedPlatformKeys = allowedSimulatedPlatformKeys
    }

    public func evaluate(evidence: AppraisedEvidence, identityKey: PublicKey) -> PeerPolicyDecision {
        if evidence.isSimulated {
            guard allowSimulation else { return .rejected(reason: "MeasurementAllowListPolicy: simulation not allowed") }
            if let keys = allowedSimulatedPlatformKeys {
                guard let key = evidence.platformKey, keys.contains(key) else {
                    return .rejected(reason: "MeasurementAllowListPolicy: unknown simulated platform key")
                }
            }
        }
        guard allowedMeasurements.contains(evidence.measurement) else {
            return .rejected(reason: "MeasurementAllowListPolicy: measurement \(hex(evidence.measurement)) not allowed")
        }
        return .accepted
    }
}

/// How evidence is bound to EKEP and to the node identity key (darknode's assertion format, any evidence kind).
///
/// * report data = SHA-512(`"darknode/ekep/report-data/v1"` ‖ identity key (33) ‖ binding blob (72)): the platform
///   vouches that this enclave holds this identity key *in this handshake*, since the blob carries the sender's
///   ephemeral DH key and the transcript hash (which includes the peer's fresh challenge).
/// * identity signature = ECDSA(identity key, SHA-256(`"darknode/ekep/identity-binding/v1"` ‖ binding blob)):
///   proof of possession, so evidence cannot bind a key its sender does not hold.
public enum BoundEvidence {
    public static let reportDataDomain = Array("darknode/ekep/report-data/v1".utf8)
    public static let identitySignatureDomain = Array("darknode/ekep/identity-binding/v1".utf8)
    public static let offerInformation = Array("Darknode Bound Evidence Offer v1".utf8)
    public static let requestInformation = Array("Darknode Bound Evidence Request v1".utf8)
    /// The version string of the `EnclaveIdentity` this produces.
    public static let identityVersion = "Darknode Bound Evidence v1"

    public static func reportData(identityKey: PublicKey, bindingBlob: [UInt8]) -> [UInt8] {
        Array(SHA512.hash(data: reportDataDomain + identityKey.compressed + bindingBlob))
    }

    public static func identityDigest(bindingBlob: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: identitySignatureDomain + bindingBlob))
    }
}

/// Generates bound-evidence assertions with an `EvidenceProducer` and the node's identity key.
public struct BoundEvidenceAssertionGenerator<Producer: EvidenceProducer>: AssertionGenerator {
    public let producer: Producer
    let identityKey: PrivateKey
    /// Cached: deriving it costs a scalar multiplication per handshake.
    public let identityPublicKey: PublicKey

    public init(producer: Producer, identityKey: PrivateKey) {
        self.producer = producer
        self.identityKey = identityKey
        self.identityPublicKey = identityKey.publicKey
    }

    public var assertionDescription: Asylo_AssertionDescription {
        Asylo_AssertionDescription(identityType: .codeIdentity, authorityType: producer.authorityType)
    }

    public func makeOffer() -> Asylo_AssertionOffer {
        var offer = Asylo_AssertionOffer()
        offer.description_p = assertionDescription
        offer.additionalInformation = Data(BoundEvidence.offerInformation)
        return offer
    }

    public func canGenerate(_ request: Asylo_AssertionRequest) -> Bool {
        Array(request.additionalInformation) == BoundEvidence.requestInformation
    }

    public func generate(for request: Asylo_AssertionRequest, bindingBlob: [UInt8]) throws(AssertionError)
        -> Asylo_Assertion
    {
        let evidence = try producer.produceEvidence(
            reportData: BoundEvidence.reportData(identityKey: identityPublicKey, bindingBlob: bindingBlob))
        let signature: ECDSASignature
        do { signature = try identityKey.signature(for: BoundEvidence.identityDigest(bindingBlob: bindingBlob)) } catch {
            throw .generationFailed("identity signature: \(error)")
        }
        var body = Darknode_Ekep_BoundEvidenceAssertion()
        body.evidence = Data(evidence)
        body.identityPublicKey = Data(identityPublicKey.compressed)
        body.identitySignature = Data(signature.compact)
        var assertion = Asylo_Assertion()
        assertion.description_p = assertionDescription
        do { assertion.assertion = try body.serializedData() } catch { throw .generationFailed("\(error)") }
        return assertion
    }
}

/// Verifies bound-evidence assertions: evidence signature (appraiser), report-data binding, identity-key
/// signature, then the policy.
public struct BoundEvidenceAssertionVerifier<Appraiser: EvidenceAppraiser>: AssertionVerifier {
    public let appraiser: Appraiser
    public let policy: any PeerAttestationPolicy
    public let expectation: any ReportDataExpectation

    public init(appraiser: Appraiser, policy: any PeerAttestationPolicy,
                expectation: any ReportDataExpectation = BoundReportData())
    {
        self.appraiser = appraiser
        self.policy = policy
        self.expectation = expectation
    }

    public var assertionDescription: Asylo_AssertionDescription {
        Asylo_AssertionDescription(identityType: .codeIdentity, authorityType: appraiser.authorityType)
    }

    public func makeRequest() -> Asylo_AssertionRequest {
        var request = Asylo_AssertionRequest()
        request.description_p = assertionDescription
        request.additionalInformation = Data(BoundEvidence.requestInformation)
        return request
    }

    public func canVerify(_ offer: Asylo_AssertionOffer) -> Bool {
        Array(offer.additionalInformation) == BoundEvidence.offerInformation
    }

    public func verify(_ assertion: Asylo_Assertion, bindingBlob: [UInt8]) throws(AssertionError) -> PeerIdentity {
        let body: Darknode_Ekep_BoundEvidenceAssertion
        do {
            body = try Darknode_Ekep_BoundEvidenceAssertion(serializedBytes: Array(assertion.assertion))
        } catch {
            throw .malformed("bound evidence assertion: \(error)")
        }
        guard body.unknownFields.data.isEmpty else { throw .malformed("unknown fields in bound evidence assertion") }
        let identityKey: PublicKey
        do { identityKey = try PublicKey(encoded: Array(body.identityPublicKey)) } catch {
            throw .malformed("identity key: \(error)")
        }
        guard body.identityPublicKey.count == 33 else { throw .malformed("identity key must be compressed") }
        let evidence = try appraiser.appraise(Array(body.evidence))
        // Constant-time comparison is not needed: report data and the blob are public.
        let expected = expectation.handshake(identityKey: identityKey, bindingBlob: bindingBlob)
        guard evidence.reportData == expected else { throw .bindingMismatch }
        guard let signature = try? ECDSASignature(compact: Array(body.identitySignature)),
            identityKey.isValidSignature(signature, for: BoundEvidence.identityDigest(bindingBlob: bindingBlob))
        else { throw .identitySignatureInvalid }
        if case .rejected(let reason) = policy.evaluate(evidence: evidence, identityKey: identityKey, expectedReportData: expected) {
            throw .rejectedByPolicy(reason)
        }
        var description = Asylo_EnclaveIdentityDescription()
        description.identityType = .codeIdentity
        description.authorityType = appraiser.authorityType
        var identity = Asylo_EnclaveIdentity()
        identity.description_p = description
        identity.identity = Data(evidence.measurement + identityKey.compressed)
        identity.version = BoundEvidence.identityVersion
        return PeerIdentity(description: assertionDescription, enclaveIdentity: identity, evidence: evidence,
                            identityKey: identityKey)
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}
