/// What one side of EKEP offers and accepts (Asylo's `EkepHandshakerOptions`).
public struct HandshakeConfiguration: Sendable {
    /// Assertions this side can produce; it offers all of them and fulfils what the peer requests.
    public let selfAssertions: [any AssertionGenerator]
    /// Assertions this side accepts from the peer, each with its verifier and policy.
    public let acceptedPeerAssertions: [any AssertionVerifier]
    /// Sent in the clear in the precommit and authenticated through the transcript.
    public let additionalAuthenticatedData: [UInt8]
    /// Largest handshake frame accepted or sent (the size field's value).
    public let maxFrameSize: Int

    /// Why a configuration is unusable.
    public enum Failure: Error, Sendable, Equatable {
        /// EKEP requires at least one assertion to offer.
        case noSelfAssertions
        /// EKEP requires at least one acceptable peer assertion.
        case noAcceptedPeerAssertions
        /// Two generators or two verifiers share a description; offers and requests would be ambiguous.
        case duplicateDescription(String)
        /// Null assertions prove nothing; they are allowed only with `allowInsecureNullAssertionsForTesting`.
        case nullAssertionsRefused
        /// The additional authenticated data must fit in one frame.
        case additionalAuthenticatedDataTooLarge(Int)
        /// `maxFrameSize` must be in 1 KiB ... 1 GiB.
        case maxFrameSizeOutOfRange(Int)
    }

    public init(selfAssertions: [any AssertionGenerator], acceptedPeerAssertions: [any AssertionVerifier],
                additionalAuthenticatedData: [UInt8] = [], maxFrameSize: Int = HandshakeFrame.defaultMaxFrameSize,
                allowInsecureNullAssertionsForTesting: Bool = false) throws(Failure)
    {
        guard !selfAssertions.isEmpty else { throw .noSelfAssertions }
        guard !acceptedPeerAssertions.isEmpty else { throw .noAcceptedPeerAssertions }
        guard (1024...HandshakeFrame.largestConfigurableFrameSize).contains(maxFrameSize) else {
            throw .maxFrameSizeOutOfRange(maxFrameSize)
        }
        guard additionalAuthenticatedData.count <= maxFrameSize else {
            throw .additionalAuthenticatedDataTooLarge(additionalAuthenticatedData.count)
        }
        for (i, g) in selfAssertions.enumerated() where selfAssertions[..<i].contains(where: {
            $0.assertionDescription == g.assertionDescription
        }) {
            throw .duplicateDescription(g.assertionDescription.authorityType)
        }
        for (i, v) in acceptedPeerAssertions.enumerated() where acceptedPeerAssertions[..<i].contains(where: {
            $0.assertionDescription == v.assertionDescription
        }) {
            throw .duplicateDescription(v.assertionDescription.authorityType)
        }
        if !allowInsecureNullAssertionsForTesting {
            guard !acceptedPeerAssertions.contains(where: { $0.isInsecureTestOnly }),
                !selfAssertions.contains(where: { $0.assertionDescription == NullAssertion.description }),
                !acceptedPeerAssertions.contains(where: { $0.assertionDescription == NullAssertion.description })
            else { throw .nullAssertionsRefused }
        }
        self.selfAssertions = selfAssertions
        self.acceptedPeerAssertions = acceptedPeerAssertions
        self.additionalAuthenticatedData = additionalAuthenticatedData
        self.maxFrameSize = maxFrameSize
    }

    func generator(for description: Asylo_AssertionDescription) -> (any AssertionGenerator)? {
        selfAssertions.first { $0.assertionDescription == description }
    }

    func verifier(for description: Asylo_AssertionDescription) -> (any AssertionVerifier)? {
        acceptedPeerAssertions.first { $0.assertionDescription == description }
    }
}
