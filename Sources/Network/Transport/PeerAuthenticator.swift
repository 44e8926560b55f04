import NIOCore
import Secp256k1

/// Which side of a connection we are.
public enum ConnectionRole: Sendable {
    case dialer
    case listener
}

/// What a completed authentication handshake proves about the peer.
public struct AuthenticatedPeer: Sendable {
    /// The peer's node identity key, bound to the handshake.
    public let identity: PeerID
    /// The platform the evidence came from (e.g. "simulated", "sgx"), or "unattested" for the test handshake.
    public let platform: String
    /// The peer's enclave measurement, hex, when attested.
    public let measurement: String?
    /// The raw evidence the peer presented, kept for re-checks and for reporting.
    public let evidence: [UInt8]?

    public init(identity: PeerID, platform: String, measurement: String?, evidence: [UInt8]?) {
        self.identity = identity
        self.platform = platform
        self.measurement = measurement
        self.evidence = evidence
    }
}

/// Runs the security handshake on a fresh TCP channel before any application byte flows.
///
/// An implementation adds its handlers at the front of the pipeline and completes the returned future once the
/// peer is authenticated; from then on, the channel carries plaintext application bytes inbound and outbound
/// (the authenticator's handlers protect them on the wire). The production authenticator is EKEP with
/// attestation; the unattested test handshake lives in the test-only `MeshTestKit` target.
public protocol PeerAuthenticator: Sendable {
    func authenticate(channel: any Channel, role: ConnectionRole) -> EventLoopFuture<AuthenticatedPeer>
}

/// Why a connection was refused during or right after authentication.
public enum AuthenticationError: Error, Equatable, Sendable {
    /// The handshake did not finish within the limit.
    case timeout
    /// The peer's handshake bytes were malformed.
    case malformedHandshake(String)
    /// The peer failed to prove possession of the identity key it claimed.
    case badProof
    /// The connection closed before the handshake finished.
    case closed
}
