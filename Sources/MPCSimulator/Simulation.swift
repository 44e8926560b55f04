import MPC
import Secp256k1

/// Whole-committee runs of each protocol over a `LocalNetwork`, in one process: for tests, the
/// `darknode mpc simulate` command and the benchmarks. Each takes its randomness from `rng` (seeded: this is
/// simulation, not a node), so a seed replays a run exactly; members' identity keys are drawn from it too.
public enum MPCSimulation {
    /// Round timeout of simulated sessions (virtual time).
    public static let timing = SessionTiming(roundTimeout: .seconds(5), sessionTimeout: .seconds(600))

    /// Identity keys for n members.
    package static func identities(count: Int, rng: inout some RandomNumberGenerator) -> [MemberIdentity] {
        (0..<count).map { _ in MemberIdentity.random(using: &rng) }
    }

    /// Key generation by every member.
    public static func generateKey(
        parameters: CommitteeParameters, label: String = "keygen", rng: inout some RandomNumberGenerator,
        behaviours: [Int: LocalNetwork<KeyGenerationSession>.Behaviour] = [:], clocks: [Int: NodeClock] = [:]
    ) throws(MPCError) -> LocalNetwork<KeyGenerationSession> {
        try generateKey(
            parameters: parameters, label: label, rng: &rng, behaviours: behaviours, clocks: clocks, dealingTampers: [:])
    }

    /// Tests: `dealingTampers` rewrites what a slot's member deals before encryption (a corrupt dealer).
    package static func generateKey(
        parameters: CommitteeParameters, label: String = "keygen", rng: inout some RandomNumberGenerator,
        behaviours: [Int: LocalNetwork<KeyGenerationSession>.Behaviour] = [:], clocks: [Int: NodeClock] = [:],
        dealingTampers: [Int: (PartyIndex, inout [VerifiableShare]) -> Void]
    ) throws(MPCError) -> LocalNetwork<KeyGenerationSession> {
        let session = SessionID(purpose: "keygen", epoch: 0, label: label)
        let ids = identities(count: parameters.size, rng: &rng)
        var sessions: [KeyGenerationSession] = []
        for me in parameters.members {
            var keygen = try KeyGenerationSession(
                session: session, parameters: parameters, me: me, identity: ids[me - 1],
                identities: ids.map(\.publicKey), timing: timing, rng: ForkedRNG(seed: rng.next()))
            keygen.dealingTamper = dealingTampers[me - 1]
            sessions.append(keygen)
        }
        var network = LocalNetwork(sessions: sessions, roundTimeout: timing.roundTimeout)
        network.behaviours = behaviours
        network.clocks = clocks
        network.run()
        return network
    }

    /// A batch of `count` presignatures by every member holding a key share.
    public static func presign(
        keyShares: [KeyShare], count: Int, label: String = "presign", rng: inout some RandomNumberGenerator,
        behaviours: [Int: LocalNetwork<PresignSession>.Behaviour] = [:], clocks: [Int: NodeClock] = [:]
    ) throws(MPCError) -> LocalNetwork<PresignSession> {
        try presign(
            keyShares: keyShares, count: count, label: label, rng: &rng, behaviours: behaviours, clocks: clocks,
            dealingTampers: [:])
    }

    /// Tests: `dealingTampers` rewrites what a slot's member deals before encryption (a corrupt dealer).
    package static func presign(
        keyShares: [KeyShare], count: Int, label: String = "presign", rng: inout some RandomNumberGenerator,
        behaviours: [Int: LocalNetwork<PresignSession>.Behaviour] = [:], clocks: [Int: NodeClock] = [:],
        dealingTampers: [Int: (PartyIndex, inout [VerifiableShare]) -> Void]
    ) throws(MPCError) -> LocalNetwork<PresignSession> {
        var network = try presignNetwork(
            keyShares: keyShares, count: count, label: label, rng: &rng, behaviours: behaviours, clocks: clocks,
            dealingTampers: dealingTampers)
        network.run()
        return network
    }

    /// The same network, not yet run: a benchmark copies one member's fresh session from it, runs the network,
    /// and replays the recorded `wireTranscript` into the copy to measure one party's work alone.
    public static func presignNetwork(
        keyShares: [KeyShare], count: Int, label: String = "presign", rng: inout some RandomNumberGenerator,
        behaviours: [Int: LocalNetwork<PresignSession>.Behaviour] = [:]
    ) throws(MPCError) -> LocalNetwork<PresignSession> {
        try presignNetwork(
            keyShares: keyShares, count: count, label: label, rng: &rng, behaviours: behaviours, clocks: [:],
            dealingTampers: [:])
    }

    package static func presignNetwork(
        keyShares: [KeyShare], count: Int, label: String, rng: inout some RandomNumberGenerator,
        behaviours: [Int: LocalNetwork<PresignSession>.Behaviour], clocks: [Int: NodeClock],
        dealingTampers: [Int: (PartyIndex, inout [VerifiableShare]) -> Void]
    ) throws(MPCError) -> LocalNetwork<PresignSession> {
        guard let first = keyShares.first else { throw .invalidParameters("no key shares") }
        let session = SessionID(purpose: "presign", epoch: first.epoch, label: label)
        let ids = identities(count: keyShares.count, rng: &rng)
        var sessions: [PresignSession] = []
        for (slot, share) in keyShares.enumerated() {
            var presign = try PresignSession(
                session: session, keyShare: share, count: count, identity: ids[share.index - 1],
                identities: ids.map(\.publicKey), timing: timing, rng: ForkedRNG(seed: rng.next()))
            presign.dealingTamper = dealingTampers[slot]
            sessions.append(presign)
        }
        var network = LocalNetwork(sessions: sessions, roundTimeout: timing.roundTimeout)
        network.behaviours = behaviours
        network.clocks = clocks
        return network
    }

    /// Resharing from the old committee (all of `oldShares`) to a new committee of `newParameters`, run as
    /// separate participants: slots 0 ..< n are old members, n ..< n + n′ new members.
    public static func reshare(
        oldShares: [KeyShare], newParameters: CommitteeParameters, label: String = "reshare",
        rng: inout some RandomNumberGenerator, behaviours: [Int: LocalNetwork<ReshareSession>.Behaviour] = [:],
        clocks: [Int: NodeClock] = [:]
    ) throws(MPCError) -> LocalNetwork<ReshareSession> {
        guard let first = oldShares.first else { throw .invalidParameters("no key shares") }
        let oldKey = first.publicData
        let session = SessionID(purpose: "reshare", epoch: oldKey.epoch, label: label)
        let ids = identities(count: newParameters.size, rng: &rng)
        var sessions: [ReshareSession] = []
        for share in oldShares {
            sessions.append(
                try ReshareSession(
                    session: session, oldKey: oldKey, newParameters: newParameters, oldShare: share, newIndex: nil,
                    identity: nil, newIdentities: ids.map(\.publicKey), timing: timing, rng: ForkedRNG(seed: rng.next())))
        }
        for j in newParameters.members {
            sessions.append(
                try ReshareSession(
                    session: session, oldKey: oldKey, newParameters: newParameters, oldShare: nil, newIndex: j,
                    identity: ids[j - 1], newIdentities: ids.map(\.publicKey), timing: timing,
                    rng: ForkedRNG(seed: rng.next())))
        }
        var network = LocalNetwork(sessions: sessions, roundTimeout: timing.roundTimeout)
        network.behaviours = behaviours
        network.clocks = clocks
        network.run()
        return network
    }
}

/// A small seeded generator (SplitMix64) so that each simulated party has its own stream. Simulation only:
/// sessions in a node use the system CSPRNG (their public initialisers take no generator).
public struct ForkedRNG: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
