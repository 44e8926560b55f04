import Crypto
import Enclave
import Foundation
import GRDB

/// Sealed-store writes/s and reads/s beside plain GRDB on the same schema and SQLite settings (WAL,
/// synchronous = FULL), in the same run. Plain GRDB stores the value in clear with one INSERT OR REPLACE per
/// transaction; the sealed store adds AES-256-GCM, the row-set digest update and the sealed head write.
func benchEnclave(_ h: inout Harness) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("darknode-bench-enclave-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }

    let rowCount = 1_000
    let value = [UInt8](repeating: 0x5A, count: 256)
    let keys = (0..<rowCount).map { Array("row-\($0)".utf8) }
    let sealingKey = SymmetricKey(size: .bits256)
    let sealed = try! SealedStore.create(path: directory + "/sealed.sqlite", sealingKey: sealingKey)
    let anchored = try! SealedStore.create(
        path: directory + "/anchored.sqlite", sealingKey: sealingKey,
        anchor: FileRollbackAnchor(path: directory + "/anchored.anchor", sealingKey: sealingKey))
    let plain = try! PlainStore(path: directory + "/plain.sqlite")
    var batch = SealedBatch()
    for key in keys { batch.put(table: "bench", key: key, value: value) }
    try! sealed.commit(batch)
    try! anchored.commit(batch)
    try! plain.put(keys.map { ($0, value) })

    print("enclave: \(rowCount) rows of \(value.count)-byte values; one transaction per write unless batched")
    let writes = 200
    var cursor = 0
    h.measure("sealed store: write (1 row/transaction)", iterations: writes) {
        for _ in 0..<writes {
            cursor = (cursor + 1) % rowCount
            try! sealed.put(table: "bench", key: keys[cursor], value: value)
        }
    }
    h.measure("plain GRDB: write (1 row/transaction)", iterations: writes) {
        for _ in 0..<writes {
            cursor = (cursor + 1) % rowCount
            try! plain.put([(keys[cursor], value)])
        }
    }
    h.measure("sealed store + file anchor: write (1 row/transaction)", iterations: writes) {
        for _ in 0..<writes {
            cursor = (cursor + 1) % rowCount
            try! anchored.put(table: "bench", key: keys[cursor], value: value)
        }
    }
    h.ratio("plain GRDB: write (1 row/transaction)", "sealed store: write (1 row/transaction)")
    h.ratio("plain GRDB: write (1 row/transaction)", "sealed store + file anchor: write (1 row/transaction)")

    let batchSize = 100
    h.measure("sealed store: write (100 rows/transaction)", iterations: batchSize) {
        var batch = SealedBatch()
        for _ in 0..<batchSize {
            cursor = (cursor + 1) % rowCount
            batch.put(table: "bench", key: keys[cursor], value: value)
        }
        try! sealed.commit(batch)
    }
    h.measure("plain GRDB: write (100 rows/transaction)", iterations: batchSize) {
        var rows: [([UInt8], [UInt8])] = []
        for _ in 0..<batchSize {
            cursor = (cursor + 1) % rowCount
            rows.append((keys[cursor], value))
        }
        try! plain.put(rows)
    }
    h.ratio("plain GRDB: write (100 rows/transaction)", "sealed store: write (100 rows/transaction)")

    let reads = 2_000
    h.measure("sealed store: read", iterations: reads) {
        for index in 0..<reads { blackHole(try! sealed.value(table: "bench", key: keys[index % rowCount])) }
    }
    h.measure("plain GRDB: read", iterations: reads) {
        for index in 0..<reads { blackHole(try! plain.value(key: keys[index % rowCount])) }
    }
    h.ratio("plain GRDB: read", "sealed store: read")

    // Where the extra time goes: the swift-crypto calls the sealed store makes per row (one AES-GCM seal per
    // written row and per batch for the head, one open per read, one or two entry HMACs per written row), alone.
    let aesKey = SymmetricKey(size: .bits256)
    let aad = [UInt8](repeating: 0xA5, count: 52)  // the size of a row's additional data in this bench
    let box = try! AES.GCM.seal(value, using: aesKey, authenticating: aad)
    h.measure("part: AES-256-GCM seal, 256 B (swift-crypto)", iterations: reads) {
        for _ in 0..<reads { blackHole(try! AES.GCM.seal(value, using: aesKey, authenticating: aad)) }
    }
    let fixedNonce = try! AES.GCM.Nonce(data: [UInt8](repeating: 7, count: 12))
    h.measure("part: AES-256-GCM seal, 256 B, nonce given (swift-crypto)", iterations: reads) {
        for _ in 0..<reads { blackHole(try! AES.GCM.seal(value, using: aesKey, nonce: fixedNonce, authenticating: aad)) }
    }
    h.measure("part: AES.GCM.Nonce() (12 random bytes, swift-crypto)", iterations: reads) {
        for _ in 0..<reads { blackHole(AES.GCM.Nonce()) }
    }
    h.measure("part: AES-256-GCM open, 256 B (swift-crypto)", iterations: reads) {
        for _ in 0..<reads { blackHole(try! AES.GCM.open(box, using: aesKey, authenticating: aad)) }
    }
    let keyedMAC = HMAC<SHA256>(key: aesKey)
    h.measure("part: HMAC-SHA256 of 24 B, pre-keyed (swift-crypto)", iterations: reads) {
        for index in 0..<reads {
            var mac = keyedMAC
            mac.update(data: keys[index % rowCount])
            blackHole(mac.finalize())
        }
    }
    try! sealed.close()
    try! anchored.close()
    try! plain.database.close()
}

/// The peer: the sealed store's table layout and SQLite settings, values in clear, no head or digest.
private struct PlainStore {
    let database: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.journalMode = .wal
        database = try DatabaseQueue(path: path, configuration: configuration)
        // As the sealed store does: after GRDB's WAL set-up, which sets NORMAL.
        try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try database.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE sealed_rows (
                        table_name TEXT NOT NULL, row_key BLOB NOT NULL, version INTEGER NOT NULL, sealed BLOB NOT NULL,
                        PRIMARY KEY (table_name, row_key)) WITHOUT ROWID
                    """)
        }
    }

    func put(_ rows: [([UInt8], [UInt8])]) throws {
        try database.write { db in
            let statement = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO sealed_rows (table_name, row_key, version, sealed) VALUES ('bench', ?, 0, ?)")
            for (key, value) in rows { try statement.execute(arguments: [Data(key), Data(value)]) }
        }
    }

    /// Read as the sealed store reads (`inDatabase`, one SELECT), so both sides pay the same GRDB costs.
    func value(key: [UInt8]) throws -> [UInt8]? {
        try database.inDatabase { db in
            try Data.fetchOne(
                db.cachedStatement(sql: "SELECT sealed FROM sealed_rows WHERE table_name = 'bench' AND row_key = ?"),
                arguments: [Data(key)]
            ).map { [UInt8]($0) }
        }
    }
}
