import Foundation

/// Something the mesh reports to the node.
public enum MeshEvent: Sendable {
    /// A peer completed authentication and admission; its verified identity.
    case connected(AuthenticatedPeer)
    /// A connection ended (the peer may reconnect).
    case disconnected(PeerID, reason: String)
    /// A connection was refused: failed handshake, not in the admission set, or malformed traffic.
    case refused(peer: PeerID?, reason: String)
    /// A peer failed re-attestation (lapsed or out-of-policy evidence) and was disconnected.
    case evicted(PeerID, reason: String)
    /// An application message.
    case message(InboundMessage)
}

/// An application message delivered by the mesh.
public struct InboundMessage: Sendable {
    public enum Delivery: Sendable { case direct, broadcast, gossip }
    /// The neighbour that handed us the message.
    public let from: PeerID
    /// Who wrote the message, when the mesh can vouch for it: the neighbour itself for direct messages and
    /// broadcasts; nil for gossip, whose author field is set by whoever relays it and signed by no one (content
    /// that must be attributed carries its author's signature inside the payload).
    public let author: PeerID?
    public let delivery: Delivery
    public let topic: String
    public let sessionID: [UInt8]
    public let payload: [UInt8]
}

