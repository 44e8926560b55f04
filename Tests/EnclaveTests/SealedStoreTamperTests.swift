import Crypto
import Foundation
import GRDB
import Testing

@testable import Enclave

/// Goal: every way an attacker with the database file can change it is caught with a typed error, and the file
/// reveals no value or key. Method: build a small store, close it (so the WAL is checkpointed into the main file),
/// change the file the way an attacker would, and reopen.
@Suite("SealedStore tampering")
struct SealedStoreTamperTests {
    static let contents: [(table: String, key: String, value: String)] = [
        ("alpha", "first", "PLAINTEXT-MARKER-alpha-first"),
        ("alpha", "second", "PLAINTEXT-MARKER-alpha-second"),
        ("beta", "first", "PLAINTEXT-MARKER-beta-first"),
    ]

    /// A closed store holding `contents`, written in one batch per row (so the rows have different versions).
    static func makeStore(in directory: TemporaryDirectory, key: SymmetricKey) throws -> String {
        let path = directory.file("store.sqlite")
        let store = try SealedStore.create(path: path, sealingKey: key)
        for row in contents {
            try store.put(table: row.table, key: bytes(row.key), value: bytes(row.value))
        }
        try store.close()
        return path
    }

    /// Opens the store and reads everything; throws the store's error on any failed check.
    static func readAll(path: String, key: SymmetricKey) throws(SealedStoreError) -> [[UInt8]] {
        let store = try SealedStore.open(path: path, sealingKey: key)
        defer { try? store.close() }
        try store.verifyIntegrity()
        var values: [[UInt8]] = []
        for row in contents {
            guard let value = try store.value(table: row.table, key: bytes(row.key)) else { throw .rowSetMismatch }
            values.append(value)
        }
        return values
    }

    static func edit(_ path: String, _ body: (Database) throws -> Void) throws {
        let raw = try DatabaseQueue(path: path)
        try raw.write(body)
        try raw.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        try raw.close()
    }

    @Test func bitFlipAnywhereIsDetectedOrHarmless() throws {
        // Every byte of each stored record (header, table, key, version, sealed value) and of the head must, when
        // one bit flips, make opening or reading fail with a SealedStoreError. A flip anywhere else in the file
        // (free space, SQLite header counters) must either fail the same way or leave every value unchanged:
        // the store never returns a wrong value. Set ENCLAVE_FLIP_EVERY_BYTE=1 to try every byte of the file.
        let directory = try TemporaryDirectory()
        let key = randomKey()
        let path = try Self.makeStore(in: directory, key: key)
        let original = try readFile(path)
        let expected = Self.contents.map { bytes($0.value) }
        #expect(try Self.readAll(path: path, key: key) == expected)

        let mustDetect = try Self.recordBytes(path: path, file: original)
        removeSideFiles(path)
        let everyByte = ProcessInfo.processInfo.environment["ENCLAVE_FLIP_EVERY_BYTE"] == "1"
        let flipPath = directory.file("flipped.sqlite")
        var detected = 0
        var harmless = 0
        for offset in original.indices where everyByte || mustDetect.contains(offset) || offset % 61 == 0 {
            var flipped = original
            flipped[offset] ^= UInt8(1) << UInt8(offset % 8)
            removeSideFiles(flipPath)
            try writeFile(flipPath, flipped)
            do {
                let values = try Self.readAll(path: flipPath, key: key)
                #expect(values == expected, "offset \(offset): wrong values returned silently")
                #expect(!mustDetect.contains(offset), "offset \(offset): flip in a stored record went unnoticed")
                harmless += 1
            } catch {
                detected += 1
            }
        }
        #expect(detected >= mustDetect.count)
        #expect(harmless > 0)  // the sample includes free space, so both outcomes are exercised
    }

    /// The offsets of every byte of the stored records: for each row its record header (the five bytes before the
    /// body), table name, key, version and sealed value; and the store metadata's key id and sealed head.
    static func recordBytes(path: String, file: [UInt8]) throws -> Set<Int> {
        let raw = try DatabaseQueue(path: path)
        defer { try? raw.close() }
        var result = Set<Int>()
        try raw.read { db in
            let meta = try Row.fetchOne(db, sql: "SELECT key_id, head FROM store_meta")!
            for blob in [meta["key_id"] as Data, meta["head"] as Data] {
                let found = offsets(of: [UInt8](blob), in: file)
                #expect(found.count == 1)
                for start in found { result.formUnion(start..<start + blob.count) }
            }
            for row in try Row.fetchAll(db, sql: "SELECT table_name, row_key, sealed FROM sealed_rows") {
                let body = bytes(row["table_name"] as String) + [UInt8](row["row_key"] as Data)
                let sealed = [UInt8](row["sealed"] as Data)
                let sealedStart = try #require(offsets(of: sealed, in: file).first)
                let bodyStart = try #require(offsets(of: body, in: file).last { $0 < sealedStart })
                #expect(sealedStart - bodyStart <= body.count + 8)
                result.formUnion(bodyStart - 5..<sealedStart + sealed.count)
            }
        }
        return result
    }

    @Test func swappedRowsFail() throws {
        let directory = try TemporaryDirectory()
        let key = randomKey()
        let path = directory.file("store.sqlite")
        let store = try SealedStore.create(path: path, sealingKey: key)
        var batch = SealedBatch()
        batch.put(table: "t", key: bytes("a"), value: bytes("value a"))
        batch.put(table: "t", key: bytes("b"), value: bytes("value b"))
        try store.commit(batch)
        try store.close()
        // Same batch, same version: the row set is unchanged, so the values' own additional data catches it.
        try Self.edit(path) { db in
            let a = try Data.fetchOne(db, sql: "SELECT sealed FROM sealed_rows WHERE row_key = ?", arguments: [Data(bytes("a"))])!
            let b = try Data.fetchOne(db, sql: "SELECT sealed FROM sealed_rows WHERE row_key = ?", arguments: [Data(bytes("b"))])!
            try db.execute(sql: "UPDATE sealed_rows SET sealed = ? WHERE row_key = ?", arguments: [b, Data(bytes("a"))])
            try db.execute(sql: "UPDATE sealed_rows SET sealed = ? WHERE row_key = ?", arguments: [a, Data(bytes("b"))])
        }
        let reopened = try SealedStore.open(path: path, sealingKey: key)
        #expect(throws: SealedStoreError.rowTampered(table: "t", key: bytes("a"))) {
            try reopened.value(table: "t", key: bytes("a"))
        }
        #expect(throws: SealedStoreError.self) { try reopened.verifyIntegrity() }
        try reopened.close()
    }

    @Test func swappedRowsWithTheirVersionsFail() throws {
        let directory = try TemporaryDirectory()
        let key = randomKey()
        let path = try Self.makeStore(in: directory, key: key)
        try Self.edit(path) { db in
            try db.execute(sql: "UPDATE sealed_rows SET row_key = X'00' WHERE table_name = 'alpha' AND row_key = ?", arguments: [Data(bytes("first"))])
            try db.execute(sql: "UPDATE sealed_rows SET row_key = ? WHERE table_name = 'alpha' AND row_key = ?", arguments: [Data(bytes("first")), Data(bytes("second"))])
            try db.execute(sql: "UPDATE sealed_rows SET row_key = ? WHERE table_name = 'alpha' AND row_key = X'00'", arguments: [Data(bytes("second"))])
        }
        #expect(throws: SealedStoreError.rowSetMismatch) { try SealedStore.open(path: path, sealingKey: key) }
    }

    @Test func rowMovedToAnotherKeyOrTableFails() throws {
        let directory = try TemporaryDirectory()
        let key = randomKey()
        let path = try Self.makeStore(in: directory, key: key)
        // Moved while the store is closed: the row set no longer matches the head.
        try Self.edit(path) { db in
            try db.execute(sql: "UPDATE sealed_rows SET row_key = ? WHERE table_name = 'alpha' AND row_key = ?", arguments: [Data(bytes("moved")), Data(bytes("first"))])
        }
        #expect(throws: SealedStoreError.rowSetMismatch) { try SealedStore.open(path: path, sealingKey: key) }

        // Moved while the store is open (another writer on the same file): reading it fails, first on the version
        // check (the store never wrote a row there: issue 17), and the seal would not open under the new key either.
        let otherDirectory = try TemporaryDirectory()
        let livePath = try Self.makeStore(in: otherDirectory, key: key)
        let store = try SealedStore.open(path: livePath, sealingKey: key)
        let raw = try DatabaseQueue(path: livePath)
        try raw.write { db in
            try db.execute(sql: "UPDATE sealed_rows SET table_name = 'gamma' WHERE table_name = 'beta'")
            try db.execute(sql: "UPDATE sealed_rows SET row_key = ? WHERE row_key = ? AND table_name = 'alpha'", arguments: [Data(bytes("third")), Data(bytes("second"))])
        }
        try raw.close()
        #expect(throws: SealedStoreError.rowVersionMismatch(table: "gamma", key: bytes("first"), stored: 3, expected: nil)) {
            try store.value(table: "gamma", key: bytes("first"))
        }
        #expect(throws: SealedStoreError.rowVersionMismatch(table: "alpha", key: bytes("third"), stored: 2, expected: nil)) {
            try store.value(table: "alpha", key: bytes("third"))
        }
        #expect(throws: SealedStoreError.rowVersionMismatch(table: "beta", key: bytes("first"), stored: nil, expected: 3)) {
            try store.value(table: "beta", key: bytes("first"))
        }
        #expect(throws: SealedStoreError.rowSetMismatch) { try store.verifyIntegrity() }
        try store.close()
    }

    @Test func replayedOlderRowFails() throws {
        let directory = try TemporaryDirectory()
        let key = randomKey()
        let path = directory.file("store.sqlite")
        let store = try SealedStore.create(path: path, sealingKey: key)
        try store.put(table: "balance", key: bytes("alice"), value: bytes("100"))
        let old = try store.database.read { db in try Row.fetchOne(db, sql: "SELECT version, sealed FROM sealed_rows")! }
        try store.put(table: "balance", key: bytes("alice"), value: bytes("0"))
        // Put the old (authentic) row back while the store is open: only the row-set check can see it.
        let raw = try DatabaseQueue(path: path)
        try raw.write { db in
            try db.execute(sql: "UPDATE sealed_rows SET version = ?, sealed = ?", arguments: [old["version"] as Int64, old["sealed"] as Data])
        }
        try raw.close()
        #expect(throws: SealedStoreError.rowSetMismatch) { try store.verifyIntegrity() }
        try store.close()
        #expect(throws: SealedStoreError.rowSetMismatch) { try SealedStore.open(path: path, sealingKey: key) }
    }

    @Test func rollbackToAnOlderFileIsRefused() throws {
        let directory = try TemporaryDirectory()
        let key = randomKey()
        let path = directory.file("store.sqlite")
        let anchor = FileRollbackAnchor(path: directory.file("store.anchor"), sealingKey: key)
        let store = try SealedStore.create(path: path, sealingKey: key, anchor: anchor)
        try store.put(table: "t", key: bytes("a"), value: bytes("1"))
        try store.close()
        let backup = try readFile(path)

        let newer = try SealedStore.open(path: path, sealingKey: key, anchor: anchor)
        try newer.put(table: "t", key: bytes("a"), value: bytes("2"))
        try newer.close()
        #expect(try anchor.anchoredCounter() == 2)

        removeSideFiles(path)
        try writeFile(path, backup)
        // The old file is internally consistent: only the anchor can tell that it is old.
        let unanchored = try SealedStore.open(path: path, sealingKey: key)
        try unanchored.close()
        removeSideFiles(path)
        try writeFile(path, backup)
        #expect(throws: SealedStoreError.rolledBack(storeCounter: 1, anchoredCounter: 2)) {
            try SealedStore.open(path: path, sealingKey: key, anchor: anchor)
        }
        // Replacing the store with a fresh one under the same anchor is a rollback too.
        try FileManager.default.removeItem(atPath: path)
        removeSideFiles(path)
        #expect(throws: SealedStoreError.rolledBack(storeCounter: 0, anchoredCounter: 2)) {
            try SealedStore.create(path: path, sealingKey: key, anchor: anchor)
        }
    }

    @Test func externalAnchorIsEnforcedAndMonotonic() throws {
        let directory = try TemporaryDirectory()
        let key = randomKey()
        let path = directory.file("store.sqlite")
        let store = try SealedStore.create(path: path, sealingKey: key)
        try store.anchorExternal(10)
        #expect(throws: SealedStoreError.externalAnchorDecrease(current: 10, requested: 9)) { try store.anchorExternal(9) }
        #expect(store.externalAnchor == 10)
        try store.close()
        #expect(throws: SealedStoreError.externalAnchorBehind(stored: 10, required: 11)) {
            try SealedStore.open(path: path, sealingKey: key, minimumExternalAnchor: 11)
        }
        let reopened = try SealedStore.open(path: path, sealingKey: key, minimumExternalAnchor: 10)
        #expect(reopened.externalAnchor == 10)
        try reopened.close()
    }

    @Test func anchorFileCannotBeForged() throws {
        let directory = try TemporaryDirectory()
        let anchorPath = directory.file("store.anchor")
        let anchor = FileRollbackAnchor(path: anchorPath, sealingKey: randomKey())
        try anchor.record(counter: 5)
        try anchor.record(counter: 3)  // never lowers
        #expect(try anchor.anchoredCounter() == 5)
        var forged = try readFile(anchorPath)
        forged[7] = 1  // counter 1, MAC unchanged
        try writeFile(anchorPath, forged)
        #expect(throws: FileRollbackAnchorError.invalidAnchorFile(path: anchorPath)) { try anchor.anchoredCounter() }
        let otherKey = FileRollbackAnchor(path: anchorPath, sealingKey: randomKey())
        #expect(throws: FileRollbackAnchorError.invalidAnchorFile(path: anchorPath)) { try otherKey.anchoredCounter() }
    }

    @Test func wrongSealingKeyIsNamedAsSuch() throws {
        let directory = try TemporaryDirectory()
        let path = try Self.makeStore(in: directory, key: randomKey())
        #expect(throws: SealedStoreError.wrongSealingKey) { try SealedStore.open(path: path, sealingKey: randomKey()) }
    }

    @Test func truncatedFileIsDetected() throws {
        let directory = try TemporaryDirectory()
        let key = randomKey()
        let path = try Self.makeStore(in: directory, key: key)
        let original = try readFile(path)
        #expect(original.count >= 2 * 4096)
        let cutPath = directory.file("cut.sqlite")
        for length in [0, 50, 100, 4096, 4097, original.count / 2, original.count - 4096, original.count - 1] {
            removeSideFiles(cutPath)
            try writeFile(cutPath, Array(original.prefix(length)))
            #expect(throws: SealedStoreError.self, "truncated to \(length)") { try Self.readAll(path: cutPath, key: key) }
        }
    }

    @Test func noValueOrKeyMaterialInTheFiles() throws {
        let directory = try TemporaryDirectory()
        let sealingKey = randomKey()
        let path = directory.file("store.sqlite")
        let store = try SealedStore.create(path: path, sealingKey: sealingKey)
        let identity = try NodeIdentity.create(in: store)
        for row in Self.contents { try store.put(table: row.table, key: bytes(row.key), value: bytes(row.value)) }
        let secrets: [[UInt8]] = Self.contents.map { bytes($0.value) } + [
            identity.privateKey.bytes,
            sealingKey.withUnsafeBytes { Array($0) },
            StoreKeys(sealingKey: sealingKey).valueKey.withUnsafeBytes { Array($0) },
            StoreKeys(sealingKey: sealingKey).digestKey.withUnsafeBytes { Array($0) },
            bytes("PLAINTEXT-MARKER"),
        ]
        func check(_ label: String) throws {
            for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
                let contents = try readFile(file)
                for secret in secrets {
                    #expect(offsets(of: secret, in: contents).isEmpty, "\(label): secret found in \(file)")
                }
            }
        }
        try check("open, WAL not checkpointed")
        try store.close()
        try check("closed")
    }
}
