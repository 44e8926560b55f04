import Crypto
import Foundation
import GRDB

/// The store's own SQLite schema, as GRDB migrations. A new schema version is a new registered migration; a store
/// that has applied a migration this build does not know was written by a newer build and is refused.
enum SealedStoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-sealed-rows") { db in
            try db.execute(
                sql: """
                    CREATE TABLE store_meta (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        format INTEGER NOT NULL,
                        key_id BLOB NOT NULL,
                        head BLOB NOT NULL);
                    CREATE TABLE sealed_rows (
                        table_name TEXT NOT NULL,
                        row_key BLOB NOT NULL,
                        version INTEGER NOT NULL,
                        sealed BLOB NOT NULL,
                        PRIMARY KEY (table_name, row_key)) WITHOUT ROWID;
                    """)
        }
        return migrator
    }

    /// Refuses unknown (newer) schemas and applies any known migration the file has not had yet.
    static func migrate(_ database: DatabaseQueue) throws(SealedStoreError) {
        let migrator = migrator
        let applied: Set<String>? = try SealedStore.mapDatabaseErrors {
            try database.read { db in
                try db.tableExists("grdb_migrations") ? try migrator.appliedIdentifiers(db) : nil
            }
        }
        guard let applied, !applied.isEmpty else { throw .notAStore }
        let unknown = applied.subtracting(migrator.migrations)
        guard unknown.isEmpty else { throw .unknownSchema(identifiers: unknown.sorted()) }
        try SealedStore.mapDatabaseErrors { try migrator.migrate(database) }
    }
}

extension Row {
    /// The raw value of a column, so that a value of the wrong type (after tampering) converts to nil instead of
    /// stopping the process.
    func storedValue(_ name: String) -> DatabaseValue {
        self[name]
    }
}

extension SealedStore {
    static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.label = "SealedStore"
        // WAL: readers never block the writer, and a crash mid-commit leaves the last committed state.
        configuration.journalMode = .wal
        return configuration
    }

    /// Opens the store's one SQLite connection: WAL, then `synchronous = FULL`, so a committed batch survives
    /// power loss, which consensus (never sign twice) relies on. FULL must be set *after* the queue exists:
    /// GRDB's WAL set-up runs `PRAGMA synchronous = NORMAL` after `prepareDatabase`, which would silently
    /// override it there (the WAL would then be synced only at checkpoints).
    static func openQueue(path: String) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: path, configuration: configuration())
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        return queue
    }

    /// Runs GRDB code, turning its errors into `SealedStoreError` (SQLite's own corruption reports included).
    static func mapDatabaseErrors<T>(_ body: () throws -> T) throws(SealedStoreError) -> T {
        do {
            return try body()
        } catch let error as SealedStoreError {
            throw error
        } catch let error as DatabaseError {
            let reason = "\(error.resultCode): \(error.message ?? "")"
            switch error.resultCode {
            case .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_FORMAT, .SQLITE_RANGE, .SQLITE_MISMATCH:
                throw .databaseCorrupt(reason: reason)
            default:
                throw .database(reason: reason)
            }
        } catch {
            throw .database(reason: "\(type(of: error))")
        }
    }

    static func validate(table: String, key: [UInt8]) throws(SealedStoreError) {
        let bytes = Array(table.utf8)
        guard !bytes.isEmpty, bytes.count <= Limits.tableNameBytesMax, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw .invalidTableName(table) }
        guard !key.isEmpty, key.count <= Limits.rowKeyBytesMax else { throw .invalidRowKeyLength(key.count) }
    }

    static func sealHead(_ head: StoreHead, keys: StoreKeys) -> [UInt8] {
        SealedRecordCodec.seal(head.encoded, key: keys.valueKey, aad: SealedRecordCodec.headDomain + keys.keyID)
    }

    static func loadHead(_ database: DatabaseQueue, keys: StoreKeys) throws(SealedStoreError) -> StoreHead {
        let meta = try mapDatabaseErrors {
            try database.read { db in try Row.fetchOne(db, sql: "SELECT format, key_id, head FROM store_meta WHERE id = 1") }
        }
        guard let meta else { throw .notAStore }
        guard let format = Int64.fromDatabaseValue(meta.storedValue("format")) else { throw .headTampered }
        guard format == Int64(SealedRecordCodec.storeFormat) else { throw .unsupportedFormat(UInt8(truncatingIfNeeded: format)) }
        guard let keyID = Data.fromDatabaseValue(meta.storedValue("key_id")), let sealed = Data.fromDatabaseValue(meta.storedValue("head"))
        else { throw .headTampered }
        guard [UInt8](keyID) == keys.keyID else { throw .wrongSealingKey }
        let aad = SealedRecordCodec.headDomain + keys.keyID
        guard let plaintext = SealedRecordCodec.open(sealed, key: keys.valueKey, aad: aad),
            let head = StoreHead(encoded: plaintext)
        else { throw .headTampered }
        return head
    }

    /// Recomputes the row count and the row-set digest from the (table, key, version) of every row; returns every
    /// row's version (table → key → version), which reads then check.
    @discardableResult
    static func checkRowSet(_ database: DatabaseQueue, head: StoreHead, keys: StoreKeys) throws(SealedStoreError) -> RowVersions {
        let (count, digest, versions) = try mapDatabaseErrors { () throws -> (UInt64, [UInt8], RowVersions) in
            try database.read { db in
                var count: UInt64 = 0
                var digest = [UInt8](repeating: 0, count: 32)
                var versions: RowVersions = [:]
                let cursor = try Row.fetchCursor(db, sql: "SELECT table_name, row_key, version FROM sealed_rows")
                while let row = try cursor.next() {
                    guard let table = String.fromDatabaseValue(row.storedValue("table_name")),
                        let key = Data.fromDatabaseValue(row.storedValue("row_key")),
                        let version = Int64.fromDatabaseValue(row.storedValue("version"))
                    else { throw SealedStoreError.rowSetMismatch }
                    let mac = SealedRecordCodec.entryMAC(
                        table: table, key: [UInt8](key), version: UInt64(bitPattern: version), keys: keys)
                    SealedRecordCodec.xor(&digest, mac)
                    count += 1
                    versions[table, default: [:]][[UInt8](key)] = UInt64(bitPattern: version)
                }
                return (count, digest, versions)
            }
        }
        guard count == head.rowCount, digest == head.rowSetDigest else { throw .rowSetMismatch }
        return versions
    }

    static func anchoredCounter(_ anchor: (any RollbackAnchor)?) throws(SealedStoreError) -> UInt64 {
        guard let anchor else { return 0 }
        do { return try anchor.anchoredCounter() } catch { throw .anchorFailed(reason: "\(error)") }
    }

    static func record(counter: UInt64, in anchor: (any RollbackAnchor)?) throws(SealedStoreError) {
        guard let anchor else { return }
        do { try anchor.record(counter: counter) } catch { throw .anchorFailed(reason: "\(error)") }
    }

    /// Authenticates one fetched row (columns `version` and `sealed`) as the value of (table, key).
    func openRow(table: String, key: [UInt8], row: Row, counter: UInt64) throws(SealedStoreError) -> [UInt8] {
        try openRow(table: table, key: key, version: row.storedValue("version"), sealed: row.storedValue("sealed"), counter: counter)
    }

    /// Authenticates the raw `version` and `sealed` column values as the value of (table, key).
    func openRow(table: String, key: [UInt8], version storedValue: DatabaseValue, sealed sealedValue: DatabaseValue, counter: UInt64)
        throws(SealedStoreError) -> [UInt8]
    {
        guard let storedVersion = Int64.fromDatabaseValue(storedValue), let sealed = Data.fromDatabaseValue(sealedValue)
        else { throw .rowTampered(table: table, key: key) }
        let version = UInt64(bitPattern: storedVersion)
        guard version <= counter else { throw .rowFromFuture(table: table, key: key, version: version, counter: counter) }
        let aad = SealedRecordCodec.rowAAD(storeID: keys.storeID, table: table, key: key, version: version)
        guard let plaintext = SealedRecordCodec.open(sealed, key: keys.valueKey, aad: aad) else {
            throw .rowTampered(table: table, key: key)
        }
        return plaintext
    }

    /// Seals and writes `operations` as one transaction under a new counter value, then records the counter in the
    /// rollback anchor (after the commit: a crash between the two leaves the anchor behind, which is safe).
    func apply(_ operations: [SealedBatch.Operation], externalAnchor: UInt64?) throws(SealedStoreError) {
        let committed = try state.withLock { state throws(SealedStoreError) -> StoreHead in
            guard !state.isClosed else { throw .closed }
            var head = state.head
            if let externalAnchor {
                guard externalAnchor >= head.externalAnchor else {
                    throw .externalAnchorDecrease(current: head.externalAnchor, requested: externalAnchor)
                }
                head.externalAnchor = externalAnchor
            }
            head.counter += 1
            let version = head.counter
            let keys = self.keys
            let sealedValues = operations.map { operation in
                operation.value.map {
                    SealedRecordCodec.seal(
                        $0, key: keys.valueKey,
                        aad: SealedRecordCodec.rowAAD(storeID: keys.storeID, table: operation.table, key: operation.key, version: version))
                }
            }
            let start = head
            let result = try SealedStore.mapDatabaseErrors {
                try database.write { db in
                    try SealedStore.write(operations, sealedValues: sealedValues, head: start, keys: keys, db: db)
                }
            }
            state.head = result
            for operation in operations {
                if operation.value != nil {
                    state.versions[operation.table, default: [:]][operation.key] = version
                } else {
                    state.versions[operation.table]?[operation.key] = nil
                }
            }
            return result
        }
        try SealedStore.record(counter: committed.counter, in: anchor)
    }

    private static func write(
        _ operations: [SealedBatch.Operation], sealedValues: [[UInt8]?], head start: StoreHead, keys: StoreKeys,
        db: Database
    ) throws -> StoreHead {
        var head = start
        let version = Int64(bitPattern: head.counter)
        let select = try db.cachedStatement(sql: "SELECT version FROM sealed_rows WHERE table_name = ? AND row_key = ?")
        let upsert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO sealed_rows (table_name, row_key, version, sealed) VALUES (?, ?, ?, ?)")
        let remove = try db.cachedStatement(sql: "DELETE FROM sealed_rows WHERE table_name = ? AND row_key = ?")
        for (operation, sealed) in zip(operations, sealedValues) {
            let keyData = Data(operation.key)
            if let row = try Row.fetchOne(select, arguments: [operation.table, keyData]) {
                guard let old = Int64.fromDatabaseValue(row.storedValue("version")), head.rowCount > 0 else {
                    throw SealedStoreError.rowSetMismatch
                }
                let mac = SealedRecordCodec.entryMAC(
                    table: operation.table, key: operation.key, version: UInt64(bitPattern: old), keys: keys)
                SealedRecordCodec.xor(&head.rowSetDigest, mac)
                head.rowCount -= 1
            }
            guard let sealed else {
                try remove.execute(arguments: [operation.table, keyData])
                continue
            }
            try upsert.execute(arguments: [operation.table, keyData, version, Data(sealed)])
            let mac = SealedRecordCodec.entryMAC(
                table: operation.table, key: operation.key, version: head.counter, keys: keys)
            SealedRecordCodec.xor(&head.rowSetDigest, mac)
            head.rowCount += 1
        }
        try db.cachedStatement(sql: "UPDATE store_meta SET head = ? WHERE id = 1")
            .execute(arguments: [Data(sealHead(head, keys: keys))])
        return head
    }
}
