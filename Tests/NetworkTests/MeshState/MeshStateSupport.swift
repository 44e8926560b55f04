import Secp256k1
import SimulationKit
import WireCodec

@testable import Network

/// A seeded generator, so every state test and simulation replays exactly.
typealias SeededRandom = DeterministicRNG

typealias TestMeshState = MeshState<SeededRandom>

/// Identity keys drawn from a seed, sorted by identity (the last one decides against every other).
func seededKeys(_ count: Int, seed: UInt64) -> [PrivateKey] {
    var random = SeededRandom(seed: seed)
    let keys = (0..<count).map { _ in PrivateKey.generate(using: &random) }
    return keys.map { ($0, PeerID($0.publicKey)) }.sorted { $0.1 < $1.1 }.map(\.0)
}

func authenticatedPeer(_ key: PrivateKey) -> AuthenticatedPeer {
    AuthenticatedPeer(identity: PeerID(key.publicKey), platform: "test", measurement: nil, evidence: nil)
}

func makeState(
    _ key: PrivateKey, admitted: [PrivateKey], limits: NetworkLimits = NetworkLimits(), reattests: Bool = false,
    now: ContinuousClock.Instant, seed: UInt64 = 1
) -> TestMeshState {
    TestMeshState(
        identity: PeerID(key.publicKey), limits: limits, admitted: Set(admitted.map { PeerID($0.publicKey) }),
        reattestsPeers: reattests, answersChallenges: true, now: now, random: SeededRandom(seed: seed))
}

extension [MeshAction] {
    var closed: [ConnectionID] {
        compactMap {
            switch $0 {
            case .close(let id), .closeAsDuplicate(let id, _): id
            default: nil
            }
        }
    }
    var installed: [ConnectionID] { compactMap { if case .install(let id, _) = $0 { id } else { nil } } }
    var verdicts: [(ConnectionID, Bool)] { compactMap { if case .sendVerdict(let id, let keep) = $0 { (id, keep) } else { nil } } }
    var dials: [DialTarget] { compactMap { if case .dial(let target, _, _) = $0 { target } else { nil } } }
    var events: [MeshEvent] { compactMap { if case .report(let event) = $0 { event } else { nil } } }
    func sent(_ kind: Darknode_V1_MessageKind) -> [(ConnectionID, Darknode_V1_Envelope)] {
        compactMap { if case .send(let id, let e, _) = $0, e.kind == kind { (id, e) } else { nil } }
    }
}

extension MeshEvent {
    var refusal: String? { if case .refused(_, let reason) = self { reason } else { nil } }
    var eviction: String? { if case .evicted(_, let reason) = self { reason } else { nil } }
    var disconnection: String? { if case .disconnected(_, let reason) = self { reason } else { nil } }
}

/// A seeded network of pure mesh states: each TCP connection is a pair of connection ids with one FIFO queue of
/// inputs per end (bytes and the close arrive in order on one connection; connections race each other). Each step
/// delivers the head of a randomly chosen queue, so one seed is one interleaving.
struct MeshSimulation {
    struct End: Hashable {
        let node: Int
        let connection: ConnectionID
    }

    var nodes: [TestMeshState]
    /// What each node's handshake proves (derived once: key derivation is the slow part of a run).
    let peers: [AuthenticatedPeer]
    var random: SeededRandom
    var now: ContinuousClock.Instant
    private var lastID: UInt64 = 0
    /// The other end of each connection end.
    private(set) var remote: [End: End] = [:]
    private var queues: [End: [MeshInput]] = [:]

    init(keys: [PrivateKey], seed: UInt64, now: ContinuousClock.Instant, limits: NetworkLimits = NetworkLimits()) {
        let peers = keys.map(authenticatedPeer)
        let ids = Set(peers.map(\.identity))
        self.peers = peers
        self.now = now
        random = SeededRandom(seed: seed)
        nodes = peers.enumerated().map { i, peer in
            TestMeshState(
                identity: peer.identity, limits: limits, admitted: ids, reattestsPeers: false, answersChallenges: true,
                now: now, random: SeededRandom(seed: seed &+ UInt64(i)))
        }
    }

    private mutating func newID() -> ConnectionID {
        lastID += 1
        return ConnectionID(raw: lastID)
    }

    /// Node `a` opens a TCP connection to node `b`.
    mutating func dial(_ a: Int, _ b: Int) {
        let (dialer, listener) = (End(node: a, connection: newID()), End(node: b, connection: newID()))
        remote[dialer] = listener
        remote[listener] = dialer
        apply(nodes[a].handle(.outboundOpened(dialer.connection, target: nil), now: now), at: a)
        apply(nodes[b].handle(.inboundOpened(listener.connection, source: "10.0.0.\(a)"), now: now), at: b)
    }

    /// Either side closes an open connection (a reset, a crash, a timeout).
    mutating func cut(_ end: End) { close(end) }

    var openEnds: [End] { remote.keys.sorted { ($0.node, $0.connection) < ($1.node, $1.connection) } }
    var isQuiet: Bool { queues.values.allSatisfy(\.isEmpty) }

    /// Delivers one queued input; false when nothing was queued.
    @discardableResult
    mutating func step() -> Bool {
        let ready = queues.filter { !$0.value.isEmpty }.keys.sorted { ($0.node, $0.connection) < ($1.node, $1.connection) }
        guard !ready.isEmpty else { return false }
        let end = ready[Int(random.next() % UInt64(ready.count))]
        let input = queues[end]!.removeFirst()
        apply(nodes[end.node].handle(input, now: now), at: end.node)
        return true
    }

    /// Delivers until nothing is queued (or `maximumSteps`, so a livelock shows as a failed `isQuiet`).
    mutating func drain(maximumSteps: Int = 100_000) {
        var steps = 0
        while steps < maximumSteps, step() { steps += 1 }
    }

    private mutating func deliver(_ input: MeshInput, to end: End) { queues[end, default: []].append(input) }

    private mutating func close(_ end: End) {
        guard let other = remote.removeValue(forKey: end) else { return }
        remote[other] = nil
        deliver(.closed(end.connection), to: end)
        deliver(.closed(other.connection), to: other)
    }

    private mutating func apply(_ actions: [MeshAction], at node: Int) {
        for action in actions {
            guard let id = action.connection else { continue }
            let end = End(node: node, connection: id)
            switch action {
            case .authenticate:
                // The handshake proves the identity at the other end.
                if let other = remote[end] { deliver(.authenticated(id, peers[other.node]), to: end) }
            case .sendVerdict(_, let keep):
                if let other = remote[end] { deliver(.verdict(other.connection, keep: keep), to: other) }
            case .close, .closeAsDuplicate:
                close(end)
            default:
                break
            }
        }
    }
}
