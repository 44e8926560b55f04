import Logging
import Secp256k1

/// Counters for observing the mesh (and for tests of its limits).
public struct MeshStatistics: Sendable {
    public var receivedMessages = 0
    public var throttledMessages = 0
    public var droppedOutbound = 0
    public var refusedConnections = 0
    /// Re-attestation answers that passed the checker.
    public var reattestationsPassed = 0
    /// Events delivered to `events` and not yet taken by its consumer.
    public var eventsAwaitingConsumer = 0
    /// Times every connection stopped reading because the consumer lagged.
    public var readPauses = 0
    /// Inbound connections closed before authentication because too many handshakes were in progress.
    public var refusedHandshakes = 0
    /// Messages ignored because a bound was reached: attestation challenges answered too recently, address
    /// messages after the first on a connection, gossip pushes over the peer's pull quota.
    public var ignoredChallenges = 0
    public var ignoredAddressMessages = 0
    public var ignoredPushes = 0
    public var receivedPerPeer: [PeerID: Int] = [:]
    public var throttledPerPeer: [PeerID: Int] = [:]
}

/// Configuration of one node's mesh endpoint.
public struct MeshConfiguration: Sendable {
    /// The node identity key; its public half is the node's PeerID.
    public var identity: PrivateKey
    public var host: String = "127.0.0.1"
    /// 0 picks a free port.
    public var port: Int = 0
    public var limits = NetworkLimits()
    /// The security handshake every connection runs first (EKEP with attestation in production).
    public var authenticator: any PeerAuthenticator
    /// Peers allowed to connect: the current committee plus admitted candidates. Anyone else is disconnected.
    public var admitted: Set<PeerID>
    /// Admits any peer the authenticator accepts, whatever its identity. Only for diagnostic clients such as
    /// `darknode peer ping`, which learn the peer's identity from its verified attestation; a node never sets it.
    public var admitsAnyAuthenticatedPeer = false
    /// Addresses to dial at start (peer identities are learnt from their handshake).
    public var bootstrap: [(host: String, port: Int)] = []
    /// Produces fresh evidence bound to (our identity, nonce) for re-attestation; nil disables answering.
    public var attestationResponder: (@Sendable (_ nonce: [UInt8]) throws -> (platform: String, evidence: [UInt8]))?
    /// Checks a peer's re-attestation response; returns nil when acceptable, else the rejection reason.
    /// nil disables periodic re-attestation of peers.
    public var attestationChecker: (@Sendable (_ peer: PeerID, _ platform: String, _ evidence: [UInt8], _ nonce: [UInt8]) -> String?)?
    public var logger = Logger(label: "darknode.network")

    public init(identity: PrivateKey, authenticator: any PeerAuthenticator, admitted: Set<PeerID>) {
        self.identity = identity
        self.authenticator = authenticator
        self.admitted = admitted
    }
}

/// Why a mesh operation failed.
public enum MeshError: Error, Equatable, Sendable {
    /// No authenticated connection to that peer.
    case notConnected(PeerID)
    /// The payload exceeds the maximum message size.
    case messageTooLarge(Int)
    /// The mesh is not running.
    case notRunning
    /// A ping got no answer in time.
    case timeout
    /// The peer's outbound queue is full (it reads slower than we send); the message was not queued.
    case outboundQueueFull(PeerID)
}
