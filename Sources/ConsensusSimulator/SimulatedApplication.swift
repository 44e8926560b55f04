import Consensus
import SimulationKit

/// A node's durable state in a simulation: what survives a crash. The WAL is a byte image of an append-only log
/// (`WALRecords`), so a crash can tear its last record and the host can put back an older copy; decisions stand for
/// the application's store.
public final class SimulatedDisk {
    /// The log as it is on disk, torn tail included.
    public private(set) var walBytes: [UInt8] = []
    /// The entries of the complete records in `walBytes` (kept beside the bytes so appends need not re-parse).
    private var walEntries: [WALEntry] = []
    /// The log as it was when the node last booted: what a host that rolls the disk back restores.
    private var walAtLastBoot: [UInt8] = []
    public private(set) var decisions: [Height: CommitCertificate] = [:]
    public private(set) var lastDecided: Height = 0

    public init() {}

    /// A complete, durable append.
    func append(_ entry: WALEntry) {
        walBytes += WALRecords.frame(entry)
        walEntries.append(entry)
    }

    /// A crash in the middle of an append: only the first `keeping` bytes of the record reach the disk.
    func appendTorn(_ entry: WALEntry, keeping: Int) {
        walBytes += WALRecords.frame(entry).prefix(keeping)
    }

    /// Forgets heights below `height` (the log is rewritten without them).
    func discard(below height: Height) {
        walEntries.removeAll { $0.height < height }
        walBytes = walEntries.flatMap(WALRecords.frame)
    }

    /// What a booting node reads: the log's complete records (a torn tail is cut off the file, as a real recovery
    /// truncates before appending again). The disk remembers this state for `rollBack`.
    func recover() throws(ConsensusError) -> WALRecovery {
        let recovery = try WALRecords.recover(walBytes)
        walBytes.removeSubrange(recovery.intactBytes...)
        walEntries = recovery.entries
        walAtLastBoot = walBytes
        return recovery
    }

    /// The host restores the log as it was at the node's previous boot: everything appended since is gone, and the
    /// bytes are a valid log, so nothing in them tells the node.
    func rollBack() {
        walBytes = walAtLastBoot
        walEntries = (try? WALRecords.recover(walBytes).entries) ?? []
    }

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
