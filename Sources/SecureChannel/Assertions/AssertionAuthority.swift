import Attestation
import Secp256k1

/// One kind of assertion this node can *produce* (Asylo's `EnclaveAssertionGenerator`).
///
/// A node offers what its platform produces; the EKEP peer requests it, and the generator then makes an assertion
/// over the 72-byte EKEP binding blob `Blob(own DH public key, transcript hash)`.
public protocol AssertionGenerator: Sendable {
    /// The (identity type, authority type) pair this generator produces. Both fields are always set.
    var assertionDescription: Asylo_AssertionDescription { get }
    /// The offer sent in the precommit message.
    func makeOffer() throws(AssertionError) -> Asylo_AssertionOffer
    /// Whether the peer's request (already matched on description) can be satisfied.
    func canGenerate(_ request: Asylo_AssertionRequest) -> Bool
    /// An assertion over `bindingBlob`, answering `request`.
    func generate(for request: Asylo_AssertionRequest, bindingBlob: [UInt8]) throws(AssertionError) -> Asylo_Assertion
}

/// One kind of assertion this node *accepts* (Asylo's `EnclaveAssertionVerifier`), including the policy that
/// decides which verified peers are acceptable.
public protocol AssertionVerifier: Sendable {
    /// The (identity type, authority type) pair this verifier accepts. Both fields are always set.
    var assertionDescription: Asylo_AssertionDescription { get }
    /// The request sent in the precommit message.
    func makeRequest() throws(AssertionError) -> Asylo_AssertionRequest
    /// Whether the peer's offer (already matched on description) can be verified.
    func canVerify(_ offer: Asylo_AssertionOffer) -> Bool
    /// Verifies `assertion` against the binding blob this side computed itself, and applies the policy.
    func verify(_ assertion: Asylo_Assertion, bindingBlob: [UInt8]) throws(AssertionError) -> PeerIdentity
    /// Null assertions prove nothing; a configuration refuses them unless it is explicitly a test configuration.
    var isInsecureTestOnly: Bool { get }
}

extension AssertionVerifier {
    public var isInsecureTestOnly: Bool { false }
}

/// Why an assertion could not be produced or was not accepted.
public enum AssertionError: Error, Sendable, Equatable {
    /// The assertion body did not parse (truncated, trailing bytes, wrong field sizes).
    case malformed(String)
    /// The assertion is not bound to this handshake: its user data / report data differ from the binding blob.
    case bindingMismatch
    /// The evidence's own signature (the platform's, or the hardware chain's) did not verify.
    case evidenceSignatureInvalid(String)
    /// The node identity key's signature over the binding did not verify.
    case identitySignatureInvalid
    /// The evidence verified, but the policy does not accept this peer.
    case rejectedByPolicy(String)
    /// This side could not produce evidence (platform failure).
    case generationFailed(String)
}

/// What the handshake learned about the peer from one verified assertion.
public struct PeerIdentity: Sendable, Equatable {
    /// The assertion's description (which authority vouched).
    public let description: Asylo_AssertionDescription
    /// The Asylo-style identity, as exposed to ACLs (`enclave_security.identity_proto`).
    public let enclaveIdentity: Asylo_EnclaveIdentity
    /// The verified platform evidence; nil only for test-only null assertions.
    public let evidence: AppraisedEvidence?
    /// The node's secp256k1 identity key, bound by the evidence and proven by a signature; nil for null assertions.
    public let identityKey: PublicKey?

    public init(description: Asylo_AssertionDescription, enclaveIdentity: Asylo_EnclaveIdentity,
                evidence: AppraisedEvidence?, identityKey: PublicKey?)
    {
        self.description = description
        self.enclaveIdentity = enclaveIdentity
        self.evidence = evidence
        self.identityKey = identityKey
    }
}

/// Platform evidence whose signature (or chain) an `EvidenceAppraiser` has checked. Policy is applied separately.
public struct AppraisedEvidence: Sendable, Equatable {
    /// The EKEP authority type the evidence came under (e.g. "Darknode Simulated").
    public let authorityType: String
    /// The measurement of the code that produced it (SHA-256 of the executable for the simulated platform).
    public let measurement: [UInt8]
    /// The 64 report-data bytes the evidence vouches for.
    public let reportData: [UInt8]
    /// True for evidence with no hardware root of trust (the simulated platform).
    public let isSimulated: Bool
    /// The signer that vouches (the simulated platform key); nil for hardware chains that name no single key.
    public let platformKey: PublicKey?
    /// The exact evidence bytes as received.
    public let rawEvidence: [UInt8]
    /// What the Attestation verifier established (hardware appraisers; nil from the simulated appraiser), for
    /// policies that judge TCB, debug and named measurements (`AttestationPeerPolicy`).
    public let verified: VerifiedEvidence?

    public init(authorityType: String, measurement: [UInt8], reportData: [UInt8], isSimulated: Bool,
                platformKey: PublicKey?, rawEvidence: [UInt8], verified: VerifiedEvidence? = nil)
    {
        self.authorityType = authorityType
        self.measurement = measurement
        self.reportData = reportData
        self.isSimulated = isSimulated
        self.platformKey = platformKey
        self.rawEvidence = rawEvidence
        self.verified = verified
    }
}

extension Asylo_AssertionDescription {
    /// A description with both fields explicitly present (proto2 equality is presence-sensitive).
    public init(identityType: Asylo_EnclaveIdentityType, authorityType: String) {
        self.init()
        self.identityType = identityType
        self.authorityType = authorityType
    }
}
