import Crypto
import Foundation
import GRDB
import Synchronization

/// The node's persistent store: key-value rows in named tables, in SQLite (WAL mode) through GRDB, with every
/// value sealed under the enclave's sealing key.
///
/// What it guarantees, and how:
/// - Confidentiality and integrity of values: AES-256-GCM, additional data = store id ‖ table ‖ row key ‖ version,
///   so a changed, swapped or moved row, or one from another store, fails to open (`rowTampered`).
/// - Live row versions: the version of every row is kept in memory (learnt at open, updated by each commit) and
///   every read checks the stored version against it, so an authentic older row put back, or a row deleted or
///   restored, while the store is open fails on read (`rowVersionMismatch`).
/// - Integrity of the row set: a sealed head holds a counter, the row count and the XOR of an HMAC per
///   (table, key, version). At open it is recomputed, so deleted, added or replayed rows fail (`rowSetMismatch`).
/// - Rollback: the counter rises with every batch and is recorded in a `RollbackAnchor` after each commit; a store
///   older than the anchor refuses to open (`rolledBack`). `anchorExternal(_:)` records an outside monotonic value
///   (consensus height) and `open(minimumExternalAnchor:)` enforces it.
/// - Atomic batches and crash safety: one SQLite transaction per batch, WAL with `synchronous = FULL`.
///
/// Table names and row keys are stored in clear (they are lookup keys); put nothing secret in them.
public final class SealedStore: Sendable {
    /// Bounds on what callers may store, each with its reason.
    public enum Limits {
        /// Table names are short identifiers chosen by code, never by peers.
        public static let tableNameBytesMax = 64
        /// Keys are identifiers or hashes; 1 KiB leaves room for composite keys.
        public static let rowKeyBytesMax = 1024
        /// The largest value the node stores is a block or a presignature batch, well under 16 MiB.
        public static let valueBytesMax = 16 << 20
        /// Bounds the work (and memory for sealed values) one batch takes under the store's lock.
        public static let batchOperationsMax = 100_000
    }

    public let path: String
    /// The store counter after the last committed batch.
    public var counter: UInt64 { state.withLock { $0.head.counter } }
    /// The external value (e.g. consensus height) last anchored into this store.
    public var externalAnchor: UInt64 { state.withLock { $0.head.externalAnchor } }

    struct State {
        var head: StoreHead
        /// table → row key → version of every row, as this store last wrote it.
        var versions: RowVersions
        var isClosed = false
    }

    let database: DatabaseQueue
    let keys: StoreKeys
    let anchor: (any RollbackAnchor)?
    let state: Mutex<State>

    private init(path: String, database: DatabaseQueue, keys: StoreKeys, anchor: (any RollbackAnchor)?, head: StoreHead, versions: RowVersions) {
        self.path = path
        self.database = database
        self.keys = keys
        self.anchor = anchor
        self.state = Mutex(State(head: head, versions: versions))
    }

    /// Creates a new, empty store at `path`; fails if a file is already there.
    public static func create(path: String, sealingKey: SymmetricKey, anchor: (any RollbackAnchor)? = nil)
        throws(SealedStoreError) -> SealedStore
    {
        guard !FileManager.default.fileExists(atPath: path) else { throw .storeExists(path: path) }
        // An anchor that has already seen a store means this path held one: a fresh store here is a reset.
        let anchored = try anchoredCounter(anchor)
        guard anchored == 0 else { throw .rolledBack(storeCounter: 0, anchoredCounter: anchored) }
        var storeID = [UInt8](repeating: 0, count: SealedRecordCodec.storeIDLength)
        var generator = SystemRandomNumberGenerator()
        for i in storeID.indices { storeID[i] = generator.next() }
        let keys = StoreKeys(sealingKey: sealingKey, storeID: storeID)
        let head = StoreHead.empty(storeID: storeID)
        // The file is made here, owner-only (0600), so SQLite's WAL and shared-memory files, which take the
        // database file's mode, are owner-only too whatever the umask.
        do { try PlatformFiles.createSecretFile(path, []) } catch { throw .database(reason: "cannot create \(path): \(error)") }
        let database = try mapDatabaseErrors {
            let queue = try openQueue(path: path)
            try SealedStoreSchema.migrator.migrate(queue)
            try queue.write { db in
                try db.execute(
                    sql: "INSERT INTO store_meta (id, format, key_id, head) VALUES (1, ?, ?, ?)",
                    arguments: [Int(SealedRecordCodec.storeFormat), Data(keys.keyID), Data(sealHead(head, keys: keys))])
            }
            return queue
        }
        return SealedStore(path: path, database: database, keys: keys, anchor: anchor, head: head, versions: [:])
    }

    /// Opens an existing store, checking the key, the head, the row set and the rollback anchors.
    ///
    /// - Parameter minimumExternalAnchor: the lowest external value (e.g. consensus height) the caller knows this
    ///   store must already have anchored; a lower one means the file was rolled back.
    public static func open(
        path: String, sealingKey: SymmetricKey, anchor: (any RollbackAnchor)? = nil, minimumExternalAnchor: UInt64 = 0
    ) throws(SealedStoreError) -> SealedStore {
        guard FileManager.default.fileExists(atPath: path) else { throw .storeMissing(path: path) }
        let database = try mapDatabaseErrors { try openQueue(path: path) }
        try SealedStoreSchema.migrate(database)
        let head = try loadHead(database, keys: StoreKeys(sealingKey: sealingKey))
        let keys = StoreKeys(sealingKey: sealingKey).bound(to: head.storeID)
        let versions = try checkRowSet(database, head: head, keys: keys)
        let anchored = try anchoredCounter(anchor)
        guard head.counter >= anchored else { throw .rolledBack(storeCounter: head.counter, anchoredCounter: anchored) }
        guard head.externalAnchor >= minimumExternalAnchor else {
            throw .externalAnchorBehind(stored: head.externalAnchor, required: minimumExternalAnchor)
        }
        return SealedStore(path: path, database: database, keys: keys, anchor: anchor, head: head, versions: versions)
    }

    /// The value of one row, or nil when there is none. Throws when the row fails authentication, or when its
    /// version is not the one this store last wrote (a row replayed, deleted or restored behind its back).
    public func value(table: String, key: [UInt8]) throws(SealedStoreError) -> [UInt8]? {
        try SealedStore.validate(table: table, key: key)
        _ = try currentCounter()
        var columns = try fetchRow(table: table, key: key)
        var (counter, expected) = try expectation(table: table, key: key)
        if try SealedStore.storedVersion(columns, table: table, key: key) != expected {
            // A commit may have landed between the fetch and the look-up: fetch again while no commit can run
            // (commits hold `state` from before their SQLite write until the versions are updated).
            (columns, counter, expected) = try state.withLock { state throws(SealedStoreError) in
                guard !state.isClosed else { throw .closed }
                return (try fetchRow(table: table, key: key), state.head.counter, state.versions[table]?[key])
            }
            let stored = try SealedStore.storedVersion(columns, table: table, key: key)
            guard stored == expected else { throw .rowVersionMismatch(table: table, key: key, stored: stored, expected: expected) }
        }
        guard let columns else { return nil }
        return try openRow(table: table, key: key, version: columns.version, sealed: columns.sealed, counter: counter)
    }

    /// One row's raw `version` and `sealed` columns.
    func fetchRow(table: String, key: [UInt8]) throws(SealedStoreError) -> (version: DatabaseValue, sealed: DatabaseValue)? {
        // One SELECT, so SQLite's own statement-level read transaction is enough. Not `read { }`: GRDB's
        // DatabaseQueue.read toggles `PRAGMA query_only`, which expires every prepared statement of the connection,
        // so each cached statement was re-prepared on its next use (found with callgrind: ~70% of a read).
        // Columns by index from a cursor (no row copy, no case-insensitive column-name look-up).
        try SealedStore.mapDatabaseErrors { () throws -> (version: DatabaseValue, sealed: DatabaseValue)? in
            try database.inDatabase { db in
                let cursor = try Row.fetchCursor(
                    db.cachedStatement(sql: "SELECT version, sealed FROM sealed_rows WHERE table_name = ? AND row_key = ?"),
                    arguments: [table, Data(key)])
                // The row reads the statement in place: keep the cursor (which resets it on deinit) alive meanwhile.
                return try withExtendedLifetime(cursor) {
                    guard let row = try cursor.next() else { return nil }
                    return (row[0] as DatabaseValue, row[1] as DatabaseValue)
                }
            }
        }
    }

    /// The counter and the version this store last wrote for (table, key), read after a fetch.
    func expectation(table: String, key: [UInt8]) throws(SealedStoreError) -> (counter: UInt64, version: UInt64?) {
        try state.withLock { state throws(SealedStoreError) in
            guard !state.isClosed else { throw .closed }
            return (state.head.counter, state.versions[table]?[key])
        }
    }

    /// The version column of a fetched row (nil: no row); a non-integer version is tampering.
    static func storedVersion(_ columns: (version: DatabaseValue, sealed: DatabaseValue)?, table: String, key: [UInt8]) throws(SealedStoreError) -> UInt64? {
        guard let columns else { return nil }
        guard let version = Int64.fromDatabaseValue(columns.version) else { throw .rowTampered(table: table, key: key) }
        return UInt64(bitPattern: version)
    }

    /// Every row of `table` in key order, each authenticated, the set and versions checked against this store's.
    public func rows(table: String) throws(SealedStoreError) -> [(key: [UInt8], value: [UInt8])] {
        try SealedStore.validate(table: table, key: [0])
        _ = try currentCounter()
        var fetched = try fetchTable(table)
        var (counter, expected) = try tableExpectation(table)
        if SealedStore.firstMismatch(fetched, expected, table: table) != nil {
            (fetched, counter, expected) = try state.withLock { state throws(SealedStoreError) in
                guard !state.isClosed else { throw .closed }
                return (try fetchTable(table), state.head.counter, state.versions[table] ?? [:])
            }
            if let mismatch = SealedStore.firstMismatch(fetched, expected, table: table) { throw mismatch }
        }
        var result: [(key: [UInt8], value: [UInt8])] = []
        for row in fetched {
            result.append((row.key, try openRow(table: table, key: row.key, version: row.version, sealed: row.sealed, counter: counter)))
        }
        return result
    }

    typealias FetchedRow = (key: [UInt8], version: DatabaseValue, sealed: DatabaseValue)

    func fetchTable(_ table: String) throws(SealedStoreError) -> [FetchedRow] {
        let rows = try SealedStore.mapDatabaseErrors {
            try database.inDatabase { db in  // one SELECT; see `fetchRow` for why not `read`
                try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT row_key, version, sealed FROM sealed_rows WHERE table_name = ? ORDER BY row_key"),
                    arguments: [table])
            }
        }
        var result: [FetchedRow] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            guard let key = Data.fromDatabaseValue(row.storedValue("row_key")) else { throw .rowSetMismatch }
            result.append(([UInt8](key), row.storedValue("version"), row.storedValue("sealed")))
        }
        return result
    }

    func tableExpectation(_ table: String) throws(SealedStoreError) -> (counter: UInt64, versions: [[UInt8]: UInt64]) {
        try state.withLock { state throws(SealedStoreError) in
            guard !state.isClosed else { throw .closed }
            return (state.head.counter, state.versions[table] ?? [:])
        }
    }

    /// The first difference between the fetched rows of `table` and the versions this store wrote, as an error.
    static func firstMismatch(_ fetched: [FetchedRow], _ expected: [[UInt8]: UInt64], table: String) -> SealedStoreError? {
        var seen = 0
        for row in fetched {
            guard let version = Int64.fromDatabaseValue(row.version).map({ UInt64(bitPattern: $0) }) else { return .rowTampered(table: table, key: row.key) }
            let want = expected[row.key]
            if want != version { return .rowVersionMismatch(table: table, key: row.key, stored: version, expected: want) }
            seen += 1
        }
        if seen != expected.count {
            let present = Set(fetched.map(\.key))
            if let missing = expected.first(where: { !present.contains($0.key) }) {
                return .rowVersionMismatch(table: table, key: missing.key, stored: nil, expected: missing.value)
            }
            return .rowSetMismatch
        }
        return nil
    }

    /// The store counter, read *after* a fetch: a batch holds `state` from before its SQLite commit until it has
    /// recorded its new counter, so waiting for the lock here means every row version the fetch could see is at
    /// most the counter returned (read before the fetch, a concurrent commit could make a valid row look like it
    /// came from the future).
    func currentCounter() throws(SealedStoreError) -> UInt64 {
        try state.withLock { state throws(SealedStoreError) in
            guard !state.isClosed else { throw .closed }
            return state.head.counter
        }
    }

    /// Writes one value (a batch of one).
    public func put(table: String, key: [UInt8], value: [UInt8]) throws(SealedStoreError) {
        var batch = SealedBatch()
        batch.put(table: table, key: key, value: value)
        try commit(batch)
    }

    /// Deletes one row (a batch of one); deleting a missing row is not an error.
    public func delete(table: String, key: [UInt8]) throws(SealedStoreError) {
        var batch = SealedBatch()
        batch.delete(table: table, key: key)
        try commit(batch)
    }

    /// Applies every operation of `batch` in one transaction, or none of them.
    public func commit(_ batch: SealedBatch) throws(SealedStoreError) {
        guard batch.operations.count <= Limits.batchOperationsMax else { throw .batchTooLarge(batch.operations.count) }
        for operation in batch.operations {
            try SealedStore.validate(table: operation.table, key: operation.key)
            if let value = operation.value, value.count > Limits.valueBytesMax { throw .valueTooLarge(value.count) }
        }
        try apply(batch.operations, externalAnchor: nil)
    }

    /// Records an external monotonic value (e.g. the consensus height this node has reached) in the store head.
    /// It may only rise; it takes a batch of its own, so the store counter rises too.
    public func anchorExternal(_ value: UInt64) throws(SealedStoreError) {
        try apply([], externalAnchor: value)
    }

    /// Authenticates every row (the row set is already checked at open; this also opens each value).
    public func verifyIntegrity() throws(SealedStoreError) {
        let head = try state.withLock { state throws(SealedStoreError) in
            guard !state.isClosed else { throw .closed }
            return state.head
        }
        try SealedStore.checkRowSet(database, head: head, keys: keys)
        let fetched = try SealedStore.mapDatabaseErrors {
            try database.read { db in try Row.fetchAll(db, sql: "SELECT table_name, row_key, version, sealed FROM sealed_rows") }
        }
        for row in fetched {
            guard let table = String.fromDatabaseValue(row.storedValue("table_name")),
                let key = Data.fromDatabaseValue(row.storedValue("row_key"))
            else { throw .rowSetMismatch }
            _ = try openRow(table: table, key: [UInt8](key), row: row, counter: head.counter)
        }
    }

    /// Moves the WAL into the main file and closes the database. Later calls fail with `closed`.
    public func close() throws(SealedStoreError) {
        let wasClosed = state.withLock { state in
            defer { state.isClosed = true }
            return state.isClosed
        }
        guard !wasClosed else { return }
        try SealedStore.mapDatabaseErrors {
            try database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            try database.close()
        }
    }
}

/// table → row key → version.
typealias RowVersions = [String: [[UInt8]: UInt64]]

/// A set of puts and deletes applied atomically by `SealedStore.commit(_:)`, in order.
public struct SealedBatch: Sendable {
    struct Operation: Sendable {
        let table: String
        let key: [UInt8]
        /// nil deletes the row.
        let value: [UInt8]?
    }

    var operations: [Operation] = []

    public init() {}

    public var isEmpty: Bool { operations.isEmpty }
    public var count: Int { operations.count }

    public mutating func put(table: String, key: [UInt8], value: [UInt8]) {
        operations.append(Operation(table: table, key: key, value: value))
    }

    public mutating func delete(table: String, key: [UInt8]) {
        operations.append(Operation(table: table, key: key, value: nil))
    }
}
