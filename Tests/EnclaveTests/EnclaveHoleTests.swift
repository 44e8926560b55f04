import Crypto
import Foundation
import GRDB
import Synchronization
import TestSupport
import Testing

@testable import Enclave

/// Sealed-store holes of issue 17: rows bound to their store, versions checked on every read.
@Suite("SealedStore: store binding and live row versions")
struct SealedStoreBindingTests {
    /// The raw (version, sealed) of one row, through a second SQLite connection (what a host with the file can do).
    static func rawRow(_ path: String, table: String, key: [UInt8]) throws -> (version: Int64, sealed: Data)? {
        let raw = try DatabaseQueue(path: path)
        defer { try? raw.close() }
        return try raw.read { db in
            try Row.fetchOne(db, sql: "SELECT version, sealed FROM sealed_rows WHERE table_name = ? AND row_key = ?", arguments: [table, Data(key)])
                .map { ($0["version"], $0["sealed"]) }
        }
    }

    static func rawWrite(_ path: String, _ sql: String, _ arguments: StatementArguments) throws {
        let raw = try DatabaseQueue(path: path)
        defer { try? raw.close() }
        try raw.write { db in try db.execute(sql: sql, arguments: arguments) }
    }

    /// Two stores under one sealing key (a node's old and new store, or two nodes provisioned with one key):
    /// a row of one, copied over the same (table, key, version) of the other, must not open there.
    @Test func aRowFromAnotherStoreWithTheSameKeyDoesNotOpen() throws {
        let directory = try TemporaryDirectory()
        let key = randomKey()
        let pathA = directory.file("a.sqlite"), pathB = directory.file("b.sqlite")
        for (path, value) in [(pathA, "value-of-store-A"), (pathB, "value-of-store-B")] {
            let store = try SealedStore.create(path: path, sealingKey: key)
            try store.put(table: "t", key: bytes("k"), value: bytes(value))
            try store.close()
        }
        let fromA = try #require(try Self.rawRow(pathA, table: "t", key: bytes("k")))
        #expect(fromA.version == 1)
        try Self.rawWrite(pathB, "UPDATE sealed_rows SET sealed = ? WHERE table_name = 't' AND row_key = ?", [fromA.sealed, Data(bytes("k"))])
        removeSideFiles(pathB)
        do {
            let store = try SealedStore.open(path: pathB, sealingKey: key)
            defer { try? store.close() }
            let value = try store.value(table: "t", key: bytes("k"))
            Issue.record("store B returned \(String(decoding: value ?? [], as: UTF8.self)) from store A's row")
        } catch {
            #expect(error == .rowTampered(table: "t", key: bytes("k")))
        }
    }

    /// While the store is open, the host puts an authentic older version of a row back: the next read refuses it.
    @Test func anOlderVersionReplayedIntoAnOpenStoreIsRefusedOnRead() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("store.sqlite")
        let store = try SealedStore.create(path: path, sealingKey: randomKey())
        defer { try? store.close() }
        try store.put(table: "t", key: bytes("k"), value: bytes("old"))
        let old = try #require(try Self.rawRow(path, table: "t", key: bytes("k")))
        try store.put(table: "t", key: bytes("k"), value: bytes("new"))
        #expect(try store.value(table: "t", key: bytes("k")) == bytes("new"))
        try Self.rawWrite(path, "UPDATE sealed_rows SET version = ?, sealed = ? WHERE table_name = 't' AND row_key = ?", [old.version, old.sealed, Data(bytes("k"))])
        #expect(throws: SealedStoreError.rowVersionMismatch(table: "t", key: bytes("k"), stored: 1, expected: 2)) {
            try store.value(table: "t", key: bytes("k"))
        }
        #expect(throws: SealedStoreError.self) { try store.rows(table: "t") }
    }

    /// A row deleted behind the store's back reads as an error, not as "no such row"; a deleted row put back too.
    @Test func rowsDeletedOrRestoredBehindAnOpenStoreAreRefusedOnRead() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("store.sqlite")
        let store = try SealedStore.create(path: path, sealingKey: randomKey())
        defer { try? store.close() }
        try store.put(table: "t", key: bytes("kept"), value: bytes("v"))
        try store.put(table: "t", key: bytes("gone"), value: bytes("w"))
        let gone = try #require(try Self.rawRow(path, table: "t", key: bytes("gone")))
        try store.delete(table: "t", key: bytes("gone"))
        #expect(try store.value(table: "t", key: bytes("gone")) == nil)
        // Restored: an authentic row the store deleted.
        try Self.rawWrite(path, "INSERT INTO sealed_rows (table_name, row_key, version, sealed) VALUES ('t', ?, ?, ?)", [Data(bytes("gone")), gone.version, gone.sealed])
        #expect(throws: SealedStoreError.rowVersionMismatch(table: "t", key: bytes("gone"), stored: UInt64(gone.version), expected: nil)) {
            try store.value(table: "t", key: bytes("gone"))
        }
        #expect(throws: SealedStoreError.self) { try store.rows(table: "t") }
        // Deleted: a row the store holds.
        try Self.rawWrite(path, "DELETE FROM sealed_rows WHERE table_name = 't'", [])
        #expect(throws: SealedStoreError.rowVersionMismatch(table: "t", key: bytes("kept"), stored: nil, expected: 1)) {
            try store.value(table: "t", key: bytes("kept"))
        }
        #expect(throws: SealedStoreError.self) { try store.rows(table: "t") }
    }

    /// Reads racing commits of the same row never report a false mismatch (the version check is not a race).
    @Test func readsRacingOverwritesOfOneRowNeverFailFalsely() async throws {
        let directory = try TemporaryDirectory()
        let store = try SealedStore.create(path: directory.file("store.sqlite"), sealingKey: randomKey())
        defer { try? store.close() }
        try store.put(table: "t", key: bytes("k"), value: [0])
        let writes = 120
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in 1...writes { try store.put(table: "t", key: bytes("k"), value: [UInt8(i & 0xFF)]) }
            }
            group.addTask {
                var last = -1
                for _ in 0..<(writes * 3) {
                    let value = try #require(try store.value(table: "t", key: bytes("k")))
                    let n = Int(value[0])
                    #expect(n >= last, "value went backwards: \(n) after \(last)")
                    last = n
                }
            }
            try await group.waitForAll()
        }
    }
}

/// Data-directory files are private (0600, directories 0700) even when the directory already existed.
@Suite("Data directory permissions")
struct DataDirectoryPermissionTests {
    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func filesAre0600AndDirectories0700EvenInAPreexistingDirectory() throws {
        let temporary = try TemporaryDirectory()
        let path = temporary.file("node")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        #expect(try Self.mode(path) == 0o755)
        let directory = DataDirectory(path: path)
        let node = try directory.initialize(
            configuration: EnclaveConfiguration(platform: .simulated), environment: DataDirectoryTests.environment(directory), logger: quietLogger)
        try node.store.put(table: "t", key: [1], value: [2])  // the WAL exists now
        func check() throws {
            #expect(try Self.mode(path) == 0o700, "data directory")
            for file in try FileManager.default.subpathsOfDirectory(atPath: path) {
                let full = path + "/" + file
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory)
                #expect(try Self.mode(full) == (isDirectory.boolValue ? 0o700 : 0o600), "\(file)")
            }
        }
        try check()
        #expect(FileManager.default.fileExists(atPath: directory.storePath + "-wal"))
        try node.store.close()
        // Loosened by someone else: opening tightens them again.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory.storePath)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory.configurationPath)
        let opened = try directory.open(environment: DataDirectoryTests.environment(directory), logger: quietLogger)
        try opened.store.put(table: "t", key: [1], value: [3])
        try check()
        try opened.store.close()
    }
}

/// Gramine's `user_report_data` → `quote` is one critical section: concurrent evidence requests never get a
/// quote over another request's report data.
@Suite("Gramine /dev/attestation serialization")
struct GramineSerializationTests {
    /// Plays Gramine: `quote` returns the sample with REPORTDATA (body offset 320) set to whatever
    /// `user_report_data` holds *now*. It also notes when a second write lands before the first quote was read.
    final class FakeGramine: GramineAttestationFiles {
        let tree: String
        let quote: [UInt8]
        struct State { var userReportData: [UInt8] = []; var inFlight = 0; var overlaps = 0 }
        let state = Mutex(State())

        init(tree: String, quote: [UInt8]) {
            self.tree = tree
            self.quote = quote
        }

        func read(_ path: String, lengthMax: Int) throws(EnclaveError) -> [UInt8] {
            guard path.hasSuffix("/quote") else { return try PlatformFiles.read(path, lengthMax: lengthMax) }
            return state.withLock { s in
                s.inFlight -= 1
                var q = quote
                q.replaceSubrange((48 + 320)..<(48 + 384), with: s.userReportData)
                return q
            }
        }

        func write(_ path: String, _ bytes: [UInt8]) throws(EnclaveError) {
            guard path.hasSuffix("/user_report_data") else { return try PlatformFiles.write(path, bytes) }
            state.withLock { s in
                s.inFlight += 1
                if s.inFlight > 1 { s.overlaps += 1 }
                s.userReportData = bytes
            }
            // Gramine does real work here (an EREPORT); give a racing request the chance to interleave.
            Thread.sleep(forTimeInterval: 0.001)
        }
    }

    @Test func concurrentEvidenceRequestsEachGetTheirOwnReportData() async throws {
        let directory = try TemporaryDirectory()
        let (root, quote) = try HardwarePlatformTests.makeGramineTree(in: directory)
        let fake = FakeGramine(tree: root, quote: quote)
        let platform = try GramineSGXPlatform(root: root, files: fake)
        let tasks = 8, perTask = 20
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    var wrong = 0
                    for i in 0..<perTask {
                        let reportData = [UInt8](repeating: UInt8(t), count: 32) + [UInt8](repeating: UInt8(i), count: 32)
                        let evidence = try platform.evidence(reportData: reportData)
                        if Array(evidence.bytes[(48 + 320)..<(48 + 384)]) != reportData { wrong += 1 }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0, "\(mismatches) of \(tasks * perTask) quotes carried another request's report data")
        #expect(fake.state.withLock { $0.overlaps } == 0)
    }
}
