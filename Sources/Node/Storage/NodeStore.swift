import Consensus
import Enclave
import Shard

/// What a node keeps in its sealed store, and the order in which it writes it:
///
/// - `wal` (height ‖ sequence → entry): every consensus `.persist` effect, durable before the next effect runs;
/// - `certificates` (height → commit certificate, which carries the block): one row per decided height;
/// - `state` ("current" → height ‖ state encoding): the shard state after the newest decided block;
/// - `mpc` (this member's key share) and `presignatures` (id → this member's half of a registered presignature),
///   written before what they produce leaves the node, deleted once used.
///
/// A decided block's certificate, the new state and the deletion of that height's WAL rows go in ONE sealed batch,
/// so a crash leaves either the old height (WAL intact, the block is decided again or learned from peers) or the
/// new one (state and certificate agree). Every row is sealed by `SealedStore` (AES-GCM, rollback-checked header).
public final class NodeStore: @unchecked Sendable {
    static let walTable = "wal"
    static let certificateTable = "certificates"
    static let stateTable = "state"
    static let currentKey = Array("current".utf8)

    public let store: SealedStore
    /// WAL keys written per height (so a decided height's rows can be deleted without a scan).
    private var walKeys: [Height: [[UInt8]]] = [:]
    private var walSequence: UInt32 = 0

    public init(store: SealedStore) { self.store = store }

    // MARK: Write-ahead log

    /// Appends entries durably (one sealed commit for the whole run of entries).
    public func appendWAL(_ entries: [WALEntry]) throws(SealedStoreError) {
        guard !entries.isEmpty else { return }
        var batch = SealedBatch()
        for e in entries {
            walSequence &+= 1
            let key = Self.heightKey(e.height) + Self.u32(walSequence)
            batch.put(table: Self.walTable, key: key, value: e.encoded)
            walKeys[e.height, default: []].append(key)
        }
        try store.commit(batch)
    }

    /// The WAL entries of `height`, in append order; undecodable rows are an error (a damaged log is not guessed at).
    public func walEntries(height: Height) throws -> [WALEntry] {
        let prefix = Self.heightKey(height)
        let rows = try store.rows(table: Self.walTable).filter { $0.key.starts(with: prefix) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        walSequence = max(walSequence, rows.map { Self.sequence(of: $0.key) }.max() ?? 0)
        walKeys[height] = rows.map(\.key)
        return try rows.map { try WALEntry.decode($0.value) }
    }

    /// Every message this node signed that its write-ahead log still holds (all heights), for the rollback check.
    public func loggedSignedMessages() throws -> [SignedMessage] {
        try store.rows(table: Self.walTable).compactMap { row in
            if case .signed(let message) = try WALEntry.decode(row.value) { return message }
            return nil
        }
    }

    // MARK: Decided blocks

    /// Makes decided blocks durable: their certificates, the state after the last, and the end of their heights' WAL,
    /// in one batch.
    public func recordDecided(_ certificates: [CommitCertificate], state: ShardState) throws(SealedStoreError) {
        guard let highest = certificates.map(\.height).max() else { return }
        var batch = SealedBatch()
        for c in certificates { batch.put(table: Self.certificateTable, key: Self.heightKey(c.height), value: c.encoded) }
        batch.put(table: Self.stateTable, key: Self.currentKey,
                  value: Self.heightKey(state.height) + (state.encodedAtRoot.isEmpty ? state.encoded : state.encodedAtRoot))
        for h in walKeys.keys where h <= highest {
            for key in walKeys[h] ?? [] { batch.delete(table: Self.walTable, key: key) }
            walKeys[h] = nil
        }
        try store.commit(batch)
    }

    public func certificate(height: Height) throws -> CommitCertificate? {
        guard let bytes = try store.value(table: Self.certificateTable, key: Self.heightKey(height)) else { return nil }
        return try CommitCertificate.decode(bytes[...])
    }

    /// The newest durable state, or the genesis state when nothing was decided yet.
    public func loadState(genesis: ShardGenesis) throws -> ShardState {
        guard let bytes = try store.value(table: Self.stateTable, key: Self.currentKey) else { return ShardState(genesis: genesis) }
        guard bytes.count >= 8 else { throw ShardError.malformed("stored state row") }
        let state = try ShardState(genesis: genesis, decoding: Array(bytes.dropFirst(8)))
        guard Self.heightKey(state.height) == Array(bytes.prefix(8)) else { throw ShardError.malformed("stored state height") }
        return state
    }

    // MARK: MPC key share

    static let mpcTable = "mpc"
    static let keyShareKey = Array("key-share".utf8)

    /// Seals this member's key share (x_i): without it the member cannot sign until the next reshare.
    public func saveKeyShare(_ bytes: [UInt8]) throws(SealedStoreError) {
        try store.put(table: Self.mpcTable, key: Self.keyShareKey, value: bytes)
    }

    public func loadKeyShare() throws -> [UInt8]? { try store.value(table: Self.mpcTable, key: Self.keyShareKey) }

    // MARK: Presignatures

    static let presignatureTable = "presignatures"

    /// Seals this member's halves of a finished presignature batch (id → `Presignature.sealedEncoding`) in one
    /// commit, before the batch is registered with the shard.
    public func savePresignatures(_ records: [(id: [UInt8], record: [UInt8])]) throws(SealedStoreError) {
        guard !records.isEmpty else { return }
        var batch = SealedBatch()
        for r in records { batch.put(table: Self.presignatureTable, key: r.id, value: r.record) }
        try store.commit(batch)
    }

    /// Deletes used or stale presignatures (before the share made from one leaves the node).
    public func deletePresignatures(_ ids: [[UInt8]]) throws(SealedStoreError) {
        guard !ids.isEmpty else { return }
        var batch = SealedBatch()
        for id in ids { batch.delete(table: Self.presignatureTable, key: id) }
        try store.commit(batch)
    }

    public func loadPresignatures() throws -> [(id: [UInt8], record: [UInt8])] {
        try store.rows(table: Self.presignatureTable).map { ($0.key, $0.value) }
    }

    // MARK: Keys

    static func heightKey(_ h: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: h >> (56 - 8 * UInt64($0))) } }
    static func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32($0))) } }
    static func sequence(of key: [UInt8]) -> UInt32 {
        key.count == 12 ? key[8...].reduce(0) { $0 << 8 | UInt32($1) } : 0
    }
}
