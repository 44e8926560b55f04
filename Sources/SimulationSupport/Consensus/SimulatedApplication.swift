import Consensus

/// A node's durable state in a simulation: what survives a crash (the WAL and the decided values).
public final class SimulatedDisk {
    public var wal = InMemoryWAL()
    public private(set) var decisions: [Height: CommitCertificate] = [:]
    public private(set) var lastDecided: Height = 0

    public init() {}

    func record(_ c: CommitCertificate) {
        decisions[c.height] = c
        lastDecided = max(lastDecided, c.height)
    }

    var recentCertificates: [CommitCertificate] {
        let from = lastDecided > UInt64(Limits.certificateHistoryMax) ? lastDecided - UInt64(Limits.certificateHistoryMax) : 0
        return (from...lastDecided).compactMap { decisions[$0] }
    }
}

/// Values in a simulation: `tag u8 ‖ height u64 ‖ proposer u16 ‖ round u32 ‖ nonce u64`. Tag 0x56 ('V') is valid
/// at its height; Byzantine nodes use 0x58 ('X') for values every honest validator rejects.
public enum SimulatedValues {
    public static let validTag: UInt8 = 0x56
    public static let invalidTag: UInt8 = 0x58

    public static func make(tag: UInt8, height: Height, proposer: Int, round: Round, nonce: UInt64) -> Value {
        var b: [UInt8] = [tag]
        b += withUnsafeBytes(of: height.bigEndian, Array.init)
        b += withUnsafeBytes(of: UInt16(proposer).bigEndian, Array.init)
        b += withUnsafeBytes(of: round.bigEndian, Array.init)
        b += withUnsafeBytes(of: nonce.bigEndian, Array.init)
        return Value(b)
    }

    /// The validity predicate every honest simulated node uses.
    public static func isValid(_ v: Value, height: Height) -> Bool {
        guard v.bytes.count == 23, v.bytes[0] == validTag else { return false }
        return v.bytes[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } == height
    }
}

/// The application of a simulated node. Proposals carry a random nonce, so a restarted proposer would propose a
/// different value for the same round: only the WAL keeps it from equivocating.
public struct SimulatedApplication: ConsensusApplication {
    let node: Int
    var rng: DeterministicRNG
    let disk: SimulatedDisk

    public mutating func propose(height: Height, round: Round) -> Value {
        SimulatedValues.make(tag: SimulatedValues.validTag, height: height, proposer: node, round: round, nonce: rng.next())
    }

    public func isValid(_ value: Value, height: Height) -> Bool { SimulatedValues.isValid(value, height: height) }

    public mutating func commit(_ certificate: CommitCertificate) -> ValidatorSet? {
        disk.record(certificate)
        return nil
    }
}
