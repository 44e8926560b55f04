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
    seed: UInt64 = 1
) -> TestMeshState {
    TestMeshState(
        identity: PeerID(key.publicKey), limits: limits, admitted: Set(admitted.map { PeerID($0.publicKey) }),
        reattestsPeers: reattests, answersChallenges: true, random: SeededRandom(seed: seed))
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
