import Secp256k1

/// Whole-committee runs of each protocol over a `LocalNetwork`, in one process: for tests, the
/// `darknode mpc simulate` command and the benchmarks. Each takes its randomness from `rng`, so a seed
/// replays a run exactly.
public enum MPCSimulation {
    /// Round timeout of simulated sessions (virtual time).
    public static let timing = SessionTiming(roundTimeout: .seconds(5), sessionTimeout: .seconds(600))

    /// Key generation by every member.
    public static func generateKey(
        parameters: CommitteeParameters, label: String = "keygen", rng: inout some RandomNumberGenerator,
        behaviours: [Int: LocalNetwork<KeyGenerationSession>.Behaviour] = [:]
    ) -> LocalNetwork<KeyGenerationSession> {
        let session = SessionID(purpose: "keygen", epoch: 0, label: label)
        let sessions = parameters.members.map { me in
            KeyGenerationSession(
                session: session, parameters: parameters, me: me, timing: timing, rng: ForkedRNG(seed: rng.next()))
        }
        var network = LocalNetwork(sessions: sessions, roundTimeout: timing.roundTimeout)
        network.behaviours = behaviours
        network.run()
        return network
    }

    /// A batch of `count` presignatures by every member holding a key share.
    public static func presign(
        keyShares: [KeyShare], count: Int, label: String = "presign", rng: inout some RandomNumberGenerator,
        behaviours: [Int: LocalNetwork<PresignSession>.Behaviour] = [:]
    ) throws(MPCError) -> LocalNetwork<PresignSession> {
        let session = SessionID(purpose: "presign", epoch: keyShares[0].epoch, label: label)
        var sessions: [PresignSession] = []
        for share in keyShares {
            sessions.append(
                try PresignSession(
                    session: session, keyShare: share, count: count, timing: timing, rng: ForkedRNG(seed: rng.next())))
        }
        var network = LocalNetwork(sessions: sessions, roundTimeout: timing.roundTimeout)
        network.behaviours = behaviours
        network.run()
        return network
    }

    /// Resharing from the old committee (all of `oldShares`) to a new committee of `newParameters`, run as
    /// separate participants: slots 0 ..< n are old members, n ..< n + n′ new members.
    public static func reshare(
        oldShares: [KeyShare], newParameters: CommitteeParameters, label: String = "reshare",
        rng: inout some RandomNumberGenerator, behaviours: [Int: LocalNetwork<ReshareSession>.Behaviour] = [:]
    ) throws(MPCError) -> LocalNetwork<ReshareSession> {
        let oldKey = oldShares[0].publicData
        let session = SessionID(purpose: "reshare", epoch: oldKey.epoch, label: label)
        var sessions: [ReshareSession] = []
        for share in oldShares {
            sessions.append(
                try ReshareSession(
                    session: session, oldKey: oldKey, newParameters: newParameters, oldShare: share, newIndex: nil,
                    timing: timing, rng: ForkedRNG(seed: rng.next())))
        }
        for j in newParameters.members {
            sessions.append(
                try ReshareSession(
                    session: session, oldKey: oldKey, newParameters: newParameters, oldShare: nil, newIndex: j,
                    timing: timing, rng: ForkedRNG(seed: rng.next())))
        }
        let oldCount = oldShares.count
        var network = LocalNetwork(
            sessions: sessions, roundTimeout: timing.roundTimeout, route: { $0.recipient.map { oldCount + $0 - 1 } })
        network.behaviours = behaviours
        network.run()
        return network
    }
}

/// A small seeded generator (SplitMix64) so that each simulated party has its own stream. Simulation only:
/// the MPC module itself never picks a generator; callers inject one.
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
