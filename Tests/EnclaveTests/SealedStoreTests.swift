import Crypto
import Foundation
import GRDB
import Synchronization
import Testing

@testable import Enclave

/// Goal: the store's ordinary behaviour — round trips, batches, deletes, counters, reopening, schema handling.
/// Method: real SQLite files in temporary directories; raw GRDB connections play the part of an outside writer.
@Suite("SealedStore basics")
struct SealedStoreTests {
    @Test func roundTripAndReopen() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("store.sqlite")
        let key = randomKey()
        let store = try SealedStore.create(path: path, sealingKey: key)
        try store.put(table: "alpha", key: bytes("one"), value: bytes("first value"))
        try store.put(table: "alpha", key: bytes("two"), value: [])
        try store.put(table: "beta", key: bytes("one"), value: bytes("other table"))
        #expect(try store.value(table: "alpha", key: bytes("one")) == bytes("first value"))
        #expect(try store.value(table: "alpha", key: bytes("two")) == [])
        #expect(try store.value(table: "alpha", key: bytes("three")) == nil)
        #expect(store.counter == 3)
        try store.close()
        #expect(throws: SealedStoreError.closed) { try store.value(table: "alpha", key: bytes("one")) }

        let reopened = try SealedStore.open(path: path, sealingKey: key)
        #expect(reopened.counter == 3)
        #expect(try reopened.value(table: "beta", key: bytes("one")) == bytes("other table"))
        let rows = try reopened.rows(table: "alpha")
        #expect(rows.map(\.key) == [bytes("one"), bytes("two")])
        try reopened.verifyIntegrity()
        try reopened.close()
    }

    @Test func batchIsOneCounterStepAndOverwritesAndDeletes() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("store.sqlite")
        let key = randomKey()
        let store = try SealedStore.create(path: path, sealingKey: key)
        var batch = SealedBatch()
        batch.put(table: "t", key: bytes("a"), value: bytes("1"))
        batch.put(table: "t", key: bytes("b"), value: bytes("2"))
        batch.put(table: "t", key: bytes("a"), value: bytes("3"))
        batch.delete(table: "t", key: bytes("b"))
        batch.delete(table: "t", key: bytes("never-existed"))
        try store.commit(batch)
        #expect(store.counter == 1)
        #expect(try store.value(table: "t", key: bytes("a")) == bytes("3"))
        #expect(try store.value(table: "t", key: bytes("b")) == nil)
        try store.delete(table: "t", key: bytes("a"))
        #expect(try store.value(table: "t", key: bytes("a")) == nil)
        try store.close()
        // The row-set digest survived overwrites and deletes: the store opens cleanly.
        let reopened = try SealedStore.open(path: path, sealingKey: key)
        #expect(try reopened.rows(table: "t").isEmpty)
        try reopened.close()
    }

    @Test func failedBatchLeavesNothingBehind() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("store.sqlite")
        let key = randomKey()
        let store = try SealedStore.create(path: path, sealingKey: key)
        try store.put(table: "t", key: bytes("kept"), value: bytes("v"))
        // An outside trigger makes SQLite abort the transaction halfway through the batch.
        let raw = try DatabaseQueue(path: path)
        try raw.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER poison BEFORE INSERT ON sealed_rows WHEN NEW.row_key = X'706F69736F6E'
                    BEGIN SELECT RAISE(ABORT, 'poisoned'); END
                    """)
        }
        var batch = SealedBatch()
        batch.put(table: "t", key: bytes("first"), value: bytes("1"))
        batch.put(table: "t", key: bytes("poison"), value: bytes("2"))
        #expect(throws: SealedStoreError.self) { try store.commit(batch) }
        #expect(store.counter == 1)
        #expect(try store.value(table: "t", key: bytes("first")) == nil)
        try raw.write { db in try db.execute(sql: "DROP TRIGGER poison") }
        try raw.close()
        // The store is still consistent and usable after the failed batch.
        try store.put(table: "t", key: bytes("after"), value: bytes("3"))
        try store.close()
        let reopened = try SealedStore.open(path: path, sealingKey: key)
        #expect(reopened.counter == 2)
        #expect(try reopened.value(table: "t", key: bytes("after")) == bytes("3"))
        try reopened.close()
    }

    @Test func invalidInputsAreTypedErrors() throws {
        let directory = try TemporaryDirectory()
        let store = try SealedStore.create(path: directory.file("store.sqlite"), sealingKey: randomKey())
        #expect(throws: SealedStoreError.invalidTableName("")) { try store.put(table: "", key: [1], value: []) }
        #expect(throws: SealedStoreError.invalidTableName("has space")) { try store.put(table: "has space", key: [1], value: []) }
        #expect(throws: SealedStoreError.invalidRowKeyLength(0)) { try store.put(table: "t", key: [], value: []) }
        let longKey = [UInt8](repeating: 1, count: SealedStore.Limits.rowKeyBytesMax + 1)
        #expect(throws: SealedStoreError.invalidRowKeyLength(longKey.count)) { try store.put(table: "t", key: longKey, value: []) }
        let bigValue = [UInt8](repeating: 0, count: SealedStore.Limits.valueBytesMax + 1)
        #expect(throws: SealedStoreError.valueTooLarge(bigValue.count)) { try store.put(table: "t", key: [1], value: bigValue) }
        #expect(store.counter == 0)
        try store.close()
    }

    @Test func createAndOpenRefuseTheWrongFiles() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("store.sqlite")
        #expect(throws: SealedStoreError.storeMissing(path: path)) { try SealedStore.open(path: path, sealingKey: randomKey()) }
        let store = try SealedStore.create(path: path, sealingKey: randomKey())
        try store.close()
        #expect(throws: SealedStoreError.storeExists(path: path)) { try SealedStore.create(path: path, sealingKey: randomKey()) }

        let plain = directory.file("plain.sqlite")
        let queue = try DatabaseQueue(path: plain)
        try queue.write { db in try db.execute(sql: "CREATE TABLE other (x INTEGER)") }
        try queue.close()
        #expect(throws: SealedStoreError.notAStore) { try SealedStore.open(path: plain, sealingKey: randomKey()) }
    }

    @Test func storeFromANewerSchemaIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("store.sqlite")
        let key = randomKey()
        try SealedStore.create(path: path, sealingKey: key).close()
        let raw = try DatabaseQueue(path: path)
        try raw.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')") }
        try raw.close()
        #expect(throws: SealedStoreError.unknownSchema(identifiers: ["v99-from-the-future"])) {
            try SealedStore.open(path: path, sealingKey: key)
        }
    }

    /// A read racing a commit must never see a row "from the future": the counter it checks versions against is
    /// read after the fetch, once any batch in flight has recorded its new counter.
    @Test func readsRacingWritesSeeOnlyValidRows() throws {
        let directory = try TemporaryDirectory()
        let store = try SealedStore.create(path: directory.file("store.sqlite"), sealingKey: randomKey())
        try store.put(table: "t", key: [1], value: [0])
        let writes = 150
        let done = Mutex(false)
        let failures = Mutex<[String]>([])
        let reader = Thread {
            var last: UInt8 = 0
            while !done.withLock({ $0 }) {
                do {
                    guard let value = try store.value(table: "t", key: [1]), value.count == 1, value[0] >= last else {
                        failures.withLock { $0.append("value went missing or backwards") }
                        continue
                    }
                    last = value[0]
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        reader.start()
        for index in 1...writes { try store.put(table: "t", key: [1], value: [UInt8(index)]) }
        done.withLock { $0 = true }
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.001) }
        #expect(failures.withLock { $0 } == [])
        #expect(try store.value(table: "t", key: [1]) == [UInt8(writes)])
        try store.close()
    }

    @Test func storeOpensInWALMode() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("store.sqlite")
        let key = randomKey()
        let store = try SealedStore.create(path: path, sealingKey: key)
        try store.put(table: "t", key: [1], value: [2])
        let mode = try store.database.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // 2 = FULL: every commit syncs the WAL (GRDB's WAL set-up would leave NORMAL, synced only at checkpoints).
        let synchronous = try store.database.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(synchronous == 2)
        try store.close()
        let reopened = try SealedStore.open(path: path, sealingKey: key)
        #expect(try reopened.database.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
        try reopened.close()
    }

    @Test func crashImageKeepsEveryCommittedBatch() throws {
        // A "crash": the files are copied while the store is open and nothing was checkpointed, as a power cut
        // would leave them. Every committed batch must be in the copy, and the copy must pass every check.
        let directory = try TemporaryDirectory()
        let path = directory.file("store.sqlite")
        let key = randomKey()
        let anchor = InMemoryRollbackAnchor()
        let store = try SealedStore.create(path: path, sealingKey: key, anchor: anchor)
        for index in 0..<20 {
            try store.put(table: "t", key: bytes("k\(index)"), value: bytes("value \(index)"))
        }
        let image = directory.file("crash.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: image)
        if FileManager.default.fileExists(atPath: path + "-wal") {
            try FileManager.default.copyItem(atPath: path + "-wal", toPath: image + "-wal")
        }
        let recovered = try SealedStore.open(path: image, sealingKey: key, anchor: anchor)
        #expect(recovered.counter == 20)
        #expect(try recovered.rows(table: "t").count == 20)
        try recovered.verifyIntegrity()
        try recovered.close()
        try store.close()
    }
}
