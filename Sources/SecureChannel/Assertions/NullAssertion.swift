#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Asylo's null assertion (NULL_IDENTITY, "Any"): proves nothing, exists so tests can run EKEP without evidence
/// and interoperate with Asylo's `*NullCredentialsOptions`. A `HandshakeConfiguration` refuses these unless it is
/// built with `allowInsecureNullAssertionsForTesting`.
public enum NullAssertion {
    public static let description = Asylo_AssertionDescription(identityType: .nullIdentity, authorityType: "Any")
    public static let offerInformation = Array("EKEP Null Assertion Offer".utf8)
    public static let requestInformation = Array("EKEP Null Assertion Request".utf8)
    public static let identityBytes = Array("Null Identity".utf8)
}

/// Produces null assertions: the binding blob wrapped in `NullAssertion { user_data }`. Test-only.
public struct NullAssertionGenerator: AssertionGenerator {
    public init() {}

    public var assertionDescription: Asylo_AssertionDescription { NullAssertion.description }

    public func makeOffer() -> Asylo_AssertionOffer {
        var offer = Asylo_AssertionOffer()
        offer.description_p = NullAssertion.description
        offer.additionalInformation = Data(NullAssertion.offerInformation)
        return offer
    }

    public func canGenerate(_ request: Asylo_AssertionRequest) -> Bool {
        Array(request.additionalInformation) == NullAssertion.requestInformation
    }

    public func generate(for request: Asylo_AssertionRequest, bindingBlob: [UInt8]) throws(AssertionError)
        -> Asylo_Assertion
    {
        var body = Asylo_NullAssertion()
        body.userData = Data(bindingBlob)
        var assertion = Asylo_Assertion()
        assertion.description_p = NullAssertion.description
        do { assertion.assertion = try body.serializedData() } catch { throw .generationFailed("\(error)") }
        return assertion
    }
}

/// Accepts null assertions whose user data equals the binding blob. Test-only: `isInsecureTestOnly` is true.
public struct NullAssertionVerifier: AssertionVerifier {
    public init() {}

    public var assertionDescription: Asylo_AssertionDescription { NullAssertion.description }
    public var isInsecureTestOnly: Bool { true }

    public func makeRequest() -> Asylo_AssertionRequest {
        var request = Asylo_AssertionRequest()
        request.description_p = NullAssertion.description
        request.additionalInformation = Data(NullAssertion.requestInformation)
        return request
    }

    public func canVerify(_ offer: Asylo_AssertionOffer) -> Bool {
        Array(offer.additionalInformation) == NullAssertion.offerInformation
    }

    public func verify(_ assertion: Asylo_Assertion, bindingBlob: [UInt8]) throws(AssertionError) -> PeerIdentity {
        let body: Asylo_NullAssertion
        do { body = try Asylo_NullAssertion(serializedBytes: Array(assertion.assertion)) } catch {
            throw .malformed("null assertion: \(error)")
        }
        guard Array(body.userData) == bindingBlob else { throw .bindingMismatch }
        var identity = Asylo_EnclaveIdentity()
        var description = Asylo_EnclaveIdentityDescription()
        description.identityType = .nullIdentity
        description.authorityType = "Any"
        identity.description_p = description
        identity.identity = Data(NullAssertion.identityBytes)
        return PeerIdentity(description: NullAssertion.description, enclaveIdentity: identity, evidence: nil,
                            identityKey: nil)
    }
}
