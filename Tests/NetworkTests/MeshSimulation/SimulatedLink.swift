import WireCodec

@testable import Network

/// What travels on one simulated TCP connection, in order. A lost copy leaves a gap that is never filled: the
/// connection stalls, as one does whose retransmissions all fail, and only the mesh's own timers (handshake and
/// verdict timeouts, liveness) end it.
enum Segment {
    case syn
    case synAck
    /// The authentication handshake, reduced to one message each way: it proves the sender's identity and, when
    /// the scenario attests, carries whether its platform evidence was good when it was sent.
    case hello(AuthenticatedPeer, evidenceGood: Bool)
    case verdict(keep: Bool)
    case frame(Darknode_V1_Envelope)
    case fin
}

/// A message of the simulated network: a segment of a link, or a reset (out of band: it ends the link at once,
/// as an RST does, whatever is still in flight).
enum Wire {
    case segment(link: Int, sequence: UInt64, Segment)
    case reset(link: Int)
}

/// Timers of the simulated processes and of the controller. Process timers carry the incarnation that set them,
/// so a crashed process's timers never fire in its successor.
enum SimulationTimer {
    case tick(incarnation: UInt32)
    case handshakeTimeout(link: Int, incarnation: UInt32)
    case connectTimeout(link: Int, incarnation: UInt32)
    /// The local close of a connection reaches the state as `closed` (the driver's channelInactive).
    case closedLocally(ConnectionID, incarnation: UInt32)
    case hostileDial
    case hostileClose(link: Int)
    /// The scenario's controller: chaos during the fault phase, then the heal.
    case chaos
    case heal
    case revoke
    /// Traffic scenarios (`MeshNetworkSimulation+Traffic`).
    case traffic(TrafficTimer)
}

/// One simulated TCP connection. Side 0 is the dialer, side 1 the listener.
struct SimulatedLink {
    let nodes: [Int]
    /// The planner target the dialer dialled (nil: an explicit connect or a hostile dial).
    let target: DialTarget?
    var ids: [ConnectionID?] = [nil, nil]
    /// The incarnation of the process at each end when it joined the link.
    var incarnations: [UInt32]
    /// Whether each end is open: established and not yet closed or reset.
    var open = [false, false]
    /// The dialer gave up (connect timeout or refusal) or the link was established: connect timers do nothing.
    var connectResolved = false
    var nextSend: [UInt64] = [0, 0]
    var nextReceive: [UInt64] = [0, 0]
    var held: [[UInt64: Segment]] = [[:], [:]]
    var sentHello = [false, false]
    var receivedHello: [AuthenticatedPeer?] = [nil, nil]
    var helloEvidenceGood = [true, true]
    var authenticated = [false, false]
    /// A segment sent from this side was lost (or blocked by a partition): everything after it waits forever.
    var stalled = [false, false]

    init(dialer: Int, listener: Int, target: DialTarget?, dialerIncarnation: UInt32) {
        nodes = [dialer, listener]
        self.target = target
        incarnations = [dialerIncarnation, 0]
    }

    func side(of node: Int) -> Int { nodes[0] == node ? 0 : 1 }

    /// Takes a segment that arrived at `side`; returns those now deliverable in order (duplicates dropped, early
    /// ones held until the gap before them fills).
    mutating func arrived(_ segment: Segment, sequence: UInt64, at side: Int) -> [Segment] {
        guard sequence >= nextReceive[side], held[side][sequence] == nil else { return [] }
        held[side][sequence] = segment
        var ready: [Segment] = []
        while let next = held[side].removeValue(forKey: nextReceive[side]) {
            ready.append(next)
            nextReceive[side] += 1
        }
        return ready
    }
}
