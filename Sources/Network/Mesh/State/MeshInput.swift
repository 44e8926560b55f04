import WireCodec

/// Names one connection for the life of a mesh. The driver assigns it when the TCP channel opens and never reuses
/// it, so an input about a connection the state already forgot is recognised and ignored.
struct ConnectionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    let raw: UInt64
    static func < (a: ConnectionID, b: ConnectionID) -> Bool { a.raw < b.raw }
    var description: String { "#\(raw)" }
}

/// What the dial planner dials: a peer whose signed address record we hold (by identity, so two spellings of one
/// address are one target), or a configured bootstrap address whose identity is learnt from its handshake.
enum DialTarget: Hashable, Sendable {
    case peer(PeerID)
    case bootstrap(host: String, port: Int)
}

/// Everything that happens to a mesh, as the pure `MeshState` sees it. The driver turns socket and timer
/// callbacks into these; nothing here holds a channel.
enum MeshInput: Sendable {
    /// A peer opened a TCP connection to us (from `source`, its IP address).
    case inboundOpened(ConnectionID, source: String)
    /// We opened a TCP connection, for the planner's `target` or for an explicit `connect` (nil).
    case outboundOpened(ConnectionID, target: DialTarget?)
    /// A planned dial never got a TCP connection (refused, unreachable, timed out).
    case dialFailed(DialTarget)
    case authenticated(ConnectionID, AuthenticatedPeer)
    case authenticationFailed(ConnectionID, reason: String)
    /// The decider's verdict byte arrived (non-deciding side only).
    case verdict(ConnectionID, keep: Bool)
    case received(ConnectionID, Darknode_V1_Envelope)
    /// The connection's bytes did not parse (frame, envelope or verdict byte).
    case malformed(ConnectionID, reason: String)
    case closed(ConnectionID)
    /// Address records of one message whose signatures and freshness the driver checked.
    case addressesVerified(ConnectionID, [PeerAddressRecord])
    /// The verdict of the attestation checker on an answer to our challenge `nonce`; nil failure means it passed.
    case attestationChecked(ConnectionID, nonce: [UInt8], failure: String?)
    /// The consumer took `count` events holding `bytes` of payload (the driver reports them in batches).
    case eventsTaken(count: Int, bytes: Int)
    /// The admission set changed (e.g. at an epoch change).
    case admissionChanged(Set<PeerID>)
    case stop
}

/// What the driver must do, in order, after an input or a tick.
enum MeshAction: Sendable {
    /// Run the authentication handshake on the new connection.
    case authenticate(ConnectionID, ConnectionRole)
    case close(ConnectionID)
    /// Close a connection that lost the tie-break; a dialler waiting on it learns the connection that stays.
    case closeAsDuplicate(ConnectionID, keeping: AuthenticatedPeer)
    /// Write the one verdict byte (deciding side), before anything else on the connection.
    case sendVerdict(ConnectionID, keep: Bool)
    /// Wait for the peer's verdict byte (non-deciding side).
    case awaitVerdict(ConnectionID)
    /// Start envelope traffic on the connection and complete a dialler waiting on it.
    case install(ConnectionID, AuthenticatedPeer)
    /// Write an envelope; its bytes are already counted against the connection's outbound queue.
    case send(ConnectionID, Darknode_V1_Envelope, bytes: Int)
    /// Send our own signed address record, then `known` (at install).
    case sendAddresses(ConnectionID, known: [PeerAddressRecord])
    /// Check signatures and freshness of address records (needs the wall clock), then feed `addressesVerified`.
    case verifyAddresses(ConnectionID, [Darknode_V1_SignedPayload])
    /// Produce platform evidence for a peer's challenge, off the event loop, and send it.
    case answerChallenge(ConnectionID, nonce: [UInt8])
    /// Run the attestation checker on a peer's answer, then feed `attestationChecked`.
    case checkAttestation(ConnectionID, peer: PeerID, platform: String, evidence: [UInt8], nonce: [UInt8])
    /// Hand an event to the consumer (it is already counted as waiting).
    case report(MeshEvent)
    /// A pong for our ping `nonce` arrived.
    case completePing(nonce: UInt64)
    /// Stop or resume reading on every connection (the consumer lags or caught up).
    case setReadsPaused(Bool)
    /// Dial `host:port` for the planner.
    case dial(DialTarget, host: String, port: Int)
}

extension MeshAction {
    /// The connection the action is about, if any.
    var connection: ConnectionID? {
        switch self {
        case .authenticate(let id, _), .close(let id), .closeAsDuplicate(let id, _), .sendVerdict(let id, _),
            .awaitVerdict(let id), .install(let id, _), .send(let id, _, _), .sendAddresses(let id, _),
            .verifyAddresses(let id, _), .answerChallenge(let id, _), .checkAttestation(let id, _, _, _, _):
            id
        case .report, .completePing, .setReadsPaused, .dial: nil
        }
    }
}
