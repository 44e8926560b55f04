#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import SwiftProtobuf

/// EKEP v1 as Asylo's code implements it, for either role: bytes in, bytes out, no I/O.
///
/// Feed every received byte to `receive(_:)` and write `bytesToSend` of each step to the peer in order. The client
/// begins with `start()`. When a step reports `.completed`, the handshake's result carries the record key, the
/// peer's verified identities and any bytes that arrived after the last handshake frame (they belong to the
/// record layer). A `.failed` step may still carry an Abort frame to send before closing.
public struct EKEPHandshaker: Sendable {
    public enum Role: Sendable, Equatable { case client, server }

    public static let versionName = "EKEP v1"
    /// Both challenges are exactly this long.
    public static let challengeLength = 32

    enum State: Sendable {
        case clientNotStarted
        case awaitingServerPrecommit
        case awaitingServerId
        case awaitingServerFinish
        case awaitingClientPrecommit
        case awaitingClientId
        case awaitingClientFinish
        case completed
        case failed
    }

    public let role: Role
    public let configuration: HandshakeConfiguration
    private var rng: any RandomNumberGenerator & Sendable
    private(set) var state: State
    private var inbound: [UInt8] = []
    private var transcript = Transcript()
    private var ephemeralKey: Curve25519.KeyAgreement.PrivateKey?
    /// Descriptions the peer promised (offers we requested), each to be satisfied exactly once.
    private var expectedPeerAssertions: [Asylo_AssertionDescription] = []
    /// The peer's requests we promised to answer (server side; the client answers `server_requests`).
    private var promisedRequests: [Asylo_AssertionRequest] = []
    private var t1: [UInt8] = []
    private var t2: [UInt8] = []
    private var secrets: EKEPKeySchedule.HandshakeSecrets?
    private var peerIdentities: [PeerIdentity] = []
    private var peerAdditionalAuthenticatedData: [UInt8] = []

    /// - Parameter rng: the source of the challenge and the ephemeral X25519 key; it must be a CSPRNG outside
    ///   tests (the default is the system CSPRNG).
    public init(role: Role, configuration: HandshakeConfiguration,
                rng: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator())
    {
        self.role = role
        self.configuration = configuration
        self.rng = rng
        self.state = role == .client ? .clientNotStarted : .awaitingClientPrecommit
    }

    /// Whether the handshake is over (completed or failed).
    public var isFinished: Bool {
        switch state {
        case .completed, .failed: true
        default: false
        }
    }

    // MARK: - Public steps

    /// Client only: produces ClientPrecommit. Asylo requires that nothing was received before this.
    public mutating func start() -> HandshakeStep {
        guard role == .client, case .clientNotStarted = state else {
            return fail(.misuse("start() is for a client that has not started"), sendAbort: false)
        }
        var precommit = Asylo_ClientPrecommit()
        var version = Asylo_EkepVersion()
        version.name = Self.versionName
        precommit.availableEkepVersions = [version]
        precommit.availableCipherSuites = [.curve25519Sha256]
        precommit.availableRecordProtocols = [.altsrpAes128Gcm]
        if !configuration.additionalAuthenticatedData.isEmpty {
            var aad = Asylo_AdditionalAuthenticatedData()
            aad.data = Data(configuration.additionalAuthenticatedData)
            precommit.options = aad
        }
        precommit.challenge = Data(randomBytes(Self.challengeLength))
        do {
            for generator in configuration.selfAssertions { precommit.clientOffers.append(try generator.makeOffer()) }
            for verifier in configuration.acceptedPeerAssertions {
                precommit.clientRequests.append(try verifier.makeRequest())
            }
            let frame = try send(.clientPrecommit, precommit)
            state = .awaitingServerPrecommit
            return HandshakeStep(bytesToSend: frame, outcome: .inProgress)
        } catch let failure as HandshakeFailure {
            return fail(failure)
        } catch {
            return fail(.aborted(code: .internalError, reason: "cannot build offers/requests: \(error)"))
        }
    }

    /// Consumes received bytes and advances as far as they allow.
    public mutating func receive(_ bytes: some Collection<UInt8>) -> HandshakeStep {
        switch state {
        case .completed, .failed:
            return HandshakeStep(bytesToSend: [], outcome: .failed(.misuse("receive after the handshake ended")))
        case .clientNotStarted:
            return fail(.aborted(code: .badMessage, reason: "bytes received before the client started"))
        default: break
        }
        inbound.append(contentsOf: bytes)
        var consumed = 0
        var output: [UInt8] = []
        while true {
            let expected: Asylo_HandshakeMessageType
            switch state {
            case .awaitingServerPrecommit: expected = .serverPrecommit
            case .awaitingServerId: expected = .serverID
            case .awaitingServerFinish: expected = .serverFinish
            case .awaitingClientPrecommit: expected = .clientPrecommit
            case .awaitingClientId: expected = .clientID
            case .awaitingClientFinish: expected = .clientFinish
            case .clientNotStarted, .completed, .failed:
                return fail(.misuse("unreachable state in receive"), sendAbort: false)
            }
            let parsed: HandshakeFrame.ParseResult
            do {
                parsed = try HandshakeFrame.parse(inbound[consumed...], expected: expected,
                                                  maxFrameSize: configuration.maxFrameSize)
            } catch {
                return fail(error)
            }
            guard case .frame(let type, let body, let length) = parsed else {
                inbound.removeFirst(consumed)
                return HandshakeStep(bytesToSend: output, outcome: .inProgress)
            }
            let frameBytes = inbound[consumed..<(consumed + length)]
            consumed += length
            if type == .abort {
                guard let abort = try? Asylo_Abort(serializedBytes: Array(body)) else {
                    return fail(.malformedPeerAbort, sendAbort: false)
                }
                return fail(.peerAborted(code: abort.code, message: abort.message), sendAbort: false)
            }
            let produced: [UInt8]
            do {
                produced = try handle(type: type, body: body, frame: frameBytes)
            } catch {
                return fail(error)
            }
            output += produced
            if case .completed = state {
                let result = HandshakeResult(
                    role: role, recordKey: recordKey, peerIdentities: peerIdentities,
                    peerAdditionalAuthenticatedData: peerAdditionalAuthenticatedData,
                    unusedBytes: Array(inbound[consumed...]))
                inbound = []
                return HandshakeStep(bytesToSend: output, outcome: .completed(result))
            }
            if !produced.isEmpty && consumed < inbound.count {
                return fail(.aborted(code: .badMessage, reason: "unexpected bytes after \(type)"))
            }
        }
    }

    /// Reports the transport's end (EOF, reset or timeout) before completion; Asylo's peers abort this way.
    public mutating func connectionClosed(reason: String = "EOF") -> HandshakeFailure {
        let failure = HandshakeFailure.connectionClosed(reason: reason)
        if !isFinished { state = .failed }
        return failure
    }

    // MARK: - Message handlers

    private var recordKey: [UInt8] = []

    private mutating func handle(type: Asylo_HandshakeMessageType, body: ArraySlice<UInt8>, frame: ArraySlice<UInt8>)
        throws(HandshakeFailure) -> [UInt8]
    {
        switch type {
        case .clientPrecommit:
            let message: Asylo_ClientPrecommit = try decode(body)
            transcript.append(frame: frame)
            return try serverHandleClientPrecommit(message)
        case .serverPrecommit:
            let message: Asylo_ServerPrecommit = try decode(body)
            transcript.append(frame: frame)
            return try clientHandleServerPrecommit(message)
        case .clientID:
            let message: Asylo_ClientId = try decode(body)
            transcript.append(frame: frame)
            return try serverHandleClientId(message)
        case .serverID:
            let message: Asylo_ServerId = try decode(body)
            transcript.append(frame: frame)
            try clientHandleServerId(message)
            return []
        case .serverFinish:
            let message: Asylo_ServerFinish = try decode(body)
            transcript.append(frame: frame)
            return try clientHandleServerFinish(message)
        case .clientFinish:
            let message: Asylo_ClientFinish = try decode(body)
            transcript.append(frame: frame)
            try serverHandleClientFinish(message)
            return []
        case .abort, .unknownHandshakeMessage:
            throw .aborted(code: .badMessage, reason: "unexpected type \(type)")
        }
    }

    private mutating func serverHandleClientPrecommit(_ precommit: Asylo_ClientPrecommit) throws(HandshakeFailure)
        -> [UInt8]
    {
        guard precommit.availableEkepVersions.contains(where: { $0.name == Self.versionName }) else {
            throw .aborted(code: .badProtocolVersion, reason: "no common EKEP version")
        }
        guard precommit.availableCipherSuites.contains(.curve25519Sha256) else {
            throw .aborted(code: .badHandshakeCipher, reason: "no common handshake cipher")
        }
        guard precommit.availableRecordProtocols.contains(.altsrpAes128Gcm) else {
            throw .aborted(code: .badRecordProtocol, reason: "no common record protocol")
        }
        guard precommit.challenge.count == Self.challengeLength else {
            throw .aborted(code: .protocolError, reason: "client challenge is \(precommit.challenge.count) bytes")
        }
        var requests: [Asylo_AssertionRequest] = []
        for offer in precommit.clientOffers {
            guard let verifier = configuration.verifier(for: offer.description_p), verifier.canVerify(offer) else {
                continue
            }
            expectedPeerAssertions.append(offer.description_p)
            do { requests.append(try verifier.makeRequest()) } catch {
                throw .aborted(code: .internalError, reason: "cannot build request: \(error)")
            }
        }
        guard !expectedPeerAssertions.isEmpty else {
            throw .aborted(code: .badAssertionType, reason: "none of the client's offers is acceptable")
        }
        var offers: [Asylo_AssertionOffer] = []
        for request in precommit.clientRequests {
            guard let generator = configuration.generator(for: request.description_p), generator.canGenerate(request)
            else { continue }
            promisedRequests.append(request)
            do { offers.append(try generator.makeOffer()) } catch {
                throw .aborted(code: .internalError, reason: "cannot build offer: \(error)")
            }
        }
        guard !promisedRequests.isEmpty else {
            throw .aborted(code: .badAssertionType, reason: "none of the client's requests can be fulfilled")
        }
        peerAdditionalAuthenticatedData = Array(precommit.options.data)

        var reply = Asylo_ServerPrecommit()
        var version = Asylo_EkepVersion()
        version.name = Self.versionName
        reply.selectedEkepVersion = version
        reply.selectedCipherSuite = .curve25519Sha256
        reply.selectedRecordProtocol = .altsrpAes128Gcm
        if !configuration.additionalAuthenticatedData.isEmpty {
            var aad = Asylo_AdditionalAuthenticatedData()
            aad.data = Data(configuration.additionalAuthenticatedData)
            reply.options = aad
        }
        reply.serverOffers = offers
        reply.serverRequests = requests
        reply.challenge = Data(randomBytes(Self.challengeLength))
        let frame = try send(.serverPrecommit, reply)
        t1 = transcript.snapshot
        state = .awaitingClientId
        return frame
    }

    private mutating func clientHandleServerPrecommit(_ precommit: Asylo_ServerPrecommit) throws(HandshakeFailure)
        -> [UInt8]
    {
        func reject(_ reason: String) -> HandshakeFailure { .aborted(code: .protocolError, reason: reason) }
        guard precommit.hasSelectedEkepVersion, precommit.selectedEkepVersion.name == Self.versionName else {
            throw reject("server selected an EKEP version the client did not offer")
        }
        guard precommit.hasSelectedCipherSuite, precommit.selectedCipherSuite == .curve25519Sha256 else {
            throw reject("server selected a cipher suite the client did not offer")
        }
        guard precommit.hasSelectedRecordProtocol, precommit.selectedRecordProtocol == .altsrpAes128Gcm else {
            throw reject("server selected a record protocol the client did not offer")
        }
        guard precommit.challenge.count == Self.challengeLength else {
            throw reject("server challenge is \(precommit.challenge.count) bytes")
        }
        guard !precommit.serverRequests.isEmpty,
            precommit.serverRequests.allSatisfy({ configuration.generator(for: $0.description_p) != nil })
        else { throw reject("server requested an assertion the client does not offer") }
        guard !precommit.serverOffers.isEmpty,
            precommit.serverOffers.allSatisfy({ configuration.verifier(for: $0.description_p) != nil })
        else { throw reject("server offered an assertion the client did not request") }
        expectedPeerAssertions = precommit.serverOffers.map(\.description_p)
        peerAdditionalAuthenticatedData = Array(precommit.options.data)

        let key = try makeEphemeralKey()
        let publicKey = Array(key.publicKey.rawRepresentation)
        t1 = transcript.snapshot
        let blob = EKEPBindingBlob.make(publicKey: publicKey, transcriptHash: t1)
        var clientId = Asylo_ClientId()
        clientId.dhPublicKey = Data(publicKey)
        for request in precommit.serverRequests {
            clientId.assertions.append(try generate(request, blob: blob))
        }
        let frame = try send(.clientID, clientId)
        t2 = transcript.snapshot
        state = .awaitingServerId
        return frame
    }

    private mutating func serverHandleClientId(_ clientId: Asylo_ClientId) throws(HandshakeFailure) -> [UInt8] {
        let peerPublicKey = Array(clientId.dhPublicKey)
        try verifyPeerAssertions(clientId.assertions,
                                 blob: EKEPBindingBlob.make(publicKey: peerPublicKey, transcriptHash: t1))
        t2 = transcript.snapshot
        let key = try makeEphemeralKey()
        let publicKey = Array(key.publicKey.rawRepresentation)
        let blob = EKEPBindingBlob.make(publicKey: publicKey, transcriptHash: t2)
        var serverId = Asylo_ServerId()
        serverId.dhPublicKey = Data(publicKey)
        for request in promisedRequests {
            serverId.assertions.append(try generate(request, blob: blob))
        }
        var output = try send(.serverID, serverId)
        let secrets = try deriveSecrets(peerPublicKey: peerPublicKey, transcriptHash: transcript.snapshot)
        self.secrets = secrets
        var finish = Asylo_ServerFinish()
        finish.handshakeAuthenticator = Data(secrets.serverFinishAuthenticator)
        output += try send(.serverFinish, finish)
        state = .awaitingClientFinish
        return output
    }

    private mutating func clientHandleServerId(_ serverId: Asylo_ServerId) throws(HandshakeFailure) {
        let peerPublicKey = Array(serverId.dhPublicKey)
        // T2 is the client's own snapshot (after sending ClientId), not something the server said.
        let blob = EKEPBindingBlob.make(publicKey: peerPublicKey, transcriptHash: t2)
        try verifyPeerAssertions(serverId.assertions, blob: blob)
        secrets = try deriveSecrets(peerPublicKey: peerPublicKey, transcriptHash: transcript.snapshot)
        state = .awaitingServerFinish
    }

    private mutating func clientHandleServerFinish(_ finish: Asylo_ServerFinish) throws(HandshakeFailure) -> [UInt8] {
        guard let secrets else { throw .aborted(code: .internalError, reason: "no secrets before ServerFinish") }
        guard secrets.isValidAuthenticator(Array(finish.handshakeAuthenticator),
                                           label: EKEPKeySchedule.serverFinishLabel)
        else { throw .aborted(code: .badAuthenticator, reason: "ServerFinish authenticator mismatch") }
        var reply = Asylo_ClientFinish()
        reply.handshakeAuthenticator = Data(secrets.clientFinishAuthenticator)
        let frame = try send(.clientFinish, reply)
        recordKey = secrets.recordKey(transcriptHash: transcript.snapshot)
        state = .completed
        return frame
    }

    private mutating func serverHandleClientFinish(_ finish: Asylo_ClientFinish) throws(HandshakeFailure) {
        guard let secrets else { throw .closedSilently(code: .internalError, reason: "no secrets before ClientFinish") }
        guard secrets.isValidAuthenticator(Array(finish.handshakeAuthenticator),
                                           label: EKEPKeySchedule.clientFinishLabel)
        else { throw .closedSilently(code: .badAuthenticator, reason: "ClientFinish authenticator mismatch") }
        recordKey = secrets.recordKey(transcriptHash: transcript.snapshot)
        state = .completed
    }

    // MARK: - Helpers

    /// Matches each received assertion to one still-expected description, verifies it over `blob`, and requires
    /// that every expected assertion arrived.
    private mutating func verifyPeerAssertions(_ assertions: [Asylo_Assertion], blob: [UInt8])
        throws(HandshakeFailure)
    {
        var remaining = expectedPeerAssertions
        for assertion in assertions {
            guard let index = remaining.firstIndex(of: assertion.description_p),
                let verifier = configuration.verifier(for: assertion.description_p)
            else { throw .aborted(code: .badAssertion, reason: "unexpected assertion \(assertion.description_p)") }
            do {
                peerIdentities.append(try verifier.verify(assertion, bindingBlob: blob))
            } catch {
                throw .aborted(code: .badAssertion, reason: "assertion rejected: \(error)")
            }
            remaining.remove(at: index)
        }
        guard remaining.isEmpty else {
            throw .aborted(code: .badAssertion, reason: "peer did not provide all expected assertions")
        }
    }

    private func generate(_ request: Asylo_AssertionRequest, blob: [UInt8]) throws(HandshakeFailure)
        -> Asylo_Assertion
    {
        guard let generator = configuration.generator(for: request.description_p) else {
            throw .aborted(code: .internalError, reason: "no generator for \(request.description_p)")
        }
        do { return try generator.generate(for: request, bindingBlob: blob) } catch {
            throw .aborted(code: .internalError, reason: "assertion generation failed: \(error)")
        }
    }

    private mutating func deriveSecrets(peerPublicKey: [UInt8], transcriptHash: [UInt8]) throws(HandshakeFailure)
        -> EKEPKeySchedule.HandshakeSecrets
    {
        guard let ephemeralKey else { throw .aborted(code: .internalError, reason: "no ephemeral key") }
        do {
            return try EKEPKeySchedule.deriveSecrets(privateKey: ephemeralKey, peerPublicKey: peerPublicKey,
                                                     transcriptHash: transcriptHash)
        } catch {
            switch error {
            case .badPeerPublicKeyLength(let n):
                throw .aborted(code: .protocolError, reason: "peer DH public key is \(n) bytes")
            case .lowOrderSharedSecret:
                throw .aborted(code: .internalError, reason: "X25519 failed (low-order peer key)")
            }
        }
    }

    private mutating func makeEphemeralKey() throws(HandshakeFailure) -> Curve25519.KeyAgreement.PrivateKey {
        do {
            let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: randomBytes(32))
            ephemeralKey = key
            return key
        } catch {
            throw .aborted(code: .internalError, reason: "cannot create X25519 key: \(error)")
        }
    }

    private func decode<M: SwiftProtobuf.Message>(_ body: ArraySlice<UInt8>) throws(HandshakeFailure) -> M {
        do { return try M(serializedBytes: Array(body)) } catch {
            throw .aborted(code: .deserializationFailed, reason: "cannot parse \(M.protoMessageName): \(error)")
        }
    }

    /// Frames an outgoing message and adds it to the transcript.
    private mutating func send(_ type: Asylo_HandshakeMessageType, _ message: some SwiftProtobuf.Message)
        throws(HandshakeFailure) -> [UInt8]
    {
        let frame = try HandshakeFrame.encode(type: type, message: message, maxFrameSize: configuration.maxFrameSize)
        transcript.append(frame: frame)
        return frame
    }

    private mutating func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            withUnsafeBytes(of: rng.next().littleEndian) { out.append(contentsOf: $0) }
        }
        return Array(out.prefix(count))
    }

    /// Ends the handshake; a code-carrying local failure yields an Abort frame to send (never after ClientFinish).
    private mutating func fail(_ failure: HandshakeFailure, sendAbort: Bool = true) -> HandshakeStep {
        state = .failed
        inbound = []
        guard sendAbort, case .aborted(let code, let reason) = failure else {
            return HandshakeStep(bytesToSend: [], outcome: .failed(failure))
        }
        var abort = Asylo_Abort()
        abort.code = code
        abort.message = reason
        let frame = (try? abort.serializedBytes()).map { HandshakeFrame.encode(type: 100, body: $0) } ?? []
        return HandshakeStep(bytesToSend: frame, outcome: .failed(failure))
    }
}

/// What one call to the handshaker produced.
public struct HandshakeStep: Sendable {
    /// Bytes to write to the peer now (possibly an Abort frame on failure).
    public var bytesToSend: [UInt8]
    public var outcome: Outcome

    public enum Outcome: Sendable {
        case inProgress
        case completed(HandshakeResult)
        case failed(HandshakeFailure)
    }
}

/// A completed handshake.
public struct HandshakeResult: Sendable {
    public let role: EKEPHandshaker.Role
    /// The ALTS record key K (16 bytes). Secret.
    public let recordKey: [UInt8]
    /// One identity per verified peer assertion, in processing order.
    public let peerIdentities: [PeerIdentity]
    /// The peer's additional authenticated data (authenticated through the transcript).
    public let peerAdditionalAuthenticatedData: [UInt8]
    /// Bytes received after the last handshake frame: the first record-protocol bytes.
    public let unusedBytes: [UInt8]

    /// A record protector keyed for this side.
    public func makeRecordProtector(maxSendFrameSize: Int = ALTSRecordProtector.defaultMaxSendFrameSize)
        -> ALTSRecordProtector
    {
        ALTSRecordProtector(key: recordKey, isClient: role == .client, maxSendFrameSize: maxSendFrameSize)
    }
}
