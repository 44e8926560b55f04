import Consensus
import Secp256k1
import SimulationKit

/// A small application for rule tests: proposes "value-h-r", rejects the values in `invalid`, records commits.
struct TestApplication: ConsensusApplication {
    var invalid: Set<Value> = []
    var commits: [CommitCertificate] = []
    var nextValidators: ValidatorSet?
    /// Appended to proposals, so a "restarted" application can propose something else.
    var proposalTag = ""

    static func value(_ h: Height, _ r: Round, _ tag: String = "") -> Value { Value(Array("value-\(h)-\(r)\(tag)".utf8)) }

    mutating func propose(height: Height, round: Round) -> Value { Self.value(height, round, proposalTag) }
    func isValid(_ value: Value, height: Height) -> Bool { !invalid.contains(value) }
    mutating func commit(_ certificate: CommitCertificate) -> ValidatorSet? {
        commits.append(certificate)
        return nextValidators
    }
}

/// n deterministic validators and helpers to sign as any of them.
struct Committee {
    let signers: [Secp256k1Signer]
    let validators: ValidatorSet
    static let timeouts = TimeoutPolicy(proposeBase: .seconds(3), prevoteBase: .seconds(1), precommitBase: .seconds(1),
                                        delta: .milliseconds(500))

    init(_ n: Int, seed: UInt64 = 7) {
        var rng = DeterministicRNG(seed: seed)
        signers = (0..<n).map { _ in Secp256k1Signer(privateKey: .generate(using: &rng)) }
        validators = try! ValidatorSet(keys: signers.map { try! PublicKey(encoded: $0.key.compressed) })
    }

    /// The process of validator `i` at height 1 (round-robin: proposer(h, r) = (h + r) mod n).
    func process(_ i: Int, app: TestApplication = TestApplication(), faults: InjectedFaults = InjectedFaults())
        -> ConsensusProcess<TestApplication>
    {
        ConsensusProcess(height: 1, validators: validators, signer: signers[i], app: app,
                         configuration: .init(timeouts: Self.timeouts, faults: faults))
    }

    func signed(_ i: Int, _ m: ConsensusMessage) -> VerifiedMessage {
        try! validators.verify(SignedMessage.sign(m, with: signers[i]), with: Secp256k1Verifier())
    }

    func proposal(_ i: Int, h: Height = 1, r: Round, vr: Round? = nil, _ v: Value) -> ConsensusEvent {
        .message(signed(i, .proposal(Proposal(height: h, round: r, validRound: vr, value: v))))
    }

    func prevote(_ i: Int, h: Height = 1, r: Round, _ v: Value?) -> ConsensusEvent {
        .message(signed(i, .vote(Vote(step: .prevote, height: h, round: r, valueID: v?.id))))
    }

    func precommit(_ i: Int, h: Height = 1, r: Round, _ v: Value?) -> ConsensusEvent {
        .message(signed(i, .vote(Vote(step: .precommit, height: h, round: r, valueID: v?.id))))
    }
}

extension Array where Element == ConsensusEffect {
    /// The messages broadcast, in order.
    var broadcasts: [ConsensusMessage] {
        compactMap { if case .broadcast(let m) = $0 { m.message } else { nil } }
    }
    var timeouts: [(Timeout, Duration)] {
        compactMap { if case .schedule(let t, let d) = $0 { (t, d) } else { nil } }
    }
    var commits: [CommitCertificate] { compactMap { if case .commit(let c) = $0 { c } else { nil } } }
    var evidence: [Misbehaviour] { compactMap { if case .evidence(let e) = $0 { e } else { nil } } }
    var persisted: [WALEntry] { compactMap { if case .persist(let e) = $0 { e } else { nil } } }
}

func prevote(_ r: Round, _ v: Value?, h: Height = 1) -> ConsensusMessage {
    .vote(Vote(step: .prevote, height: h, round: r, valueID: v?.id))
}

func precommit(_ r: Round, _ v: Value?, h: Height = 1) -> ConsensusMessage {
    .vote(Vote(step: .precommit, height: h, round: r, valueID: v?.id))
}
