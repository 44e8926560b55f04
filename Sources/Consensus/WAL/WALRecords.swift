import Crypto

/// The WAL as one append-only byte stream (a plain file, or the simulator's disk): each entry is framed as
/// `length u32 ‖ entry (WALEntry.encoded) ‖ checksum [4]` (the first four bytes of SHA-256 of the entry).
///
/// A crash in the middle of an append leaves a prefix of the last record (a torn tail). That record was not yet
/// durable, so nothing it protects left the node (the driver sends only after the append returned): recovery drops
/// it and reports it (`WALTail.torn`). Damage anywhere else — a complete record whose checksum or encoding does not
/// check, a length beyond `Limits.walRecordBytesMax` — is not a torn write and is refused with a typed error.
///
/// The node's sealed store does not need this framing (it writes WAL rows in one SQLite transaction per batch); it
/// is what a byte-level log, and the simulator's model of one, use.
public enum WALRecords {
    static let headerBytes = 4
    static let checksumBytes = 4

    /// The record for one entry.
    public static func frame(_ entry: WALEntry) -> [UInt8] {
        let body = entry.encoded
        var w = ByteWriter(capacity: body.count + headerBytes + checksumBytes)
        w.u32(UInt32(body.count))
        w.raw(body)
        w.raw(checksum(body[...]))
        return w.bytes
    }

    /// Parses a log written by `frame`, in order. A torn last record is dropped and reported; anything else that does
    /// not check is an error.
    public static func recover(_ bytes: [UInt8]) throws(ConsensusError) -> WALRecovery {
        var entries: [WALEntry] = []
        var offset = 0
        while offset < bytes.count {
            let remaining = bytes.count - offset
            guard remaining >= headerBytes else { return WALRecovery(entries: entries, intactBytes: offset, tail: .torn(bytes: remaining)) }
            let length = Int(bytes[offset..<offset + headerBytes].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length <= Limits.walRecordBytesMax else { throw .corruptWAL(offset: offset) }
            let recordBytes = headerBytes + length + checksumBytes
            guard remaining >= recordBytes else {
                return WALRecovery(entries: entries, intactBytes: offset, tail: .torn(bytes: remaining))
            }
            let body = bytes[offset + headerBytes..<offset + headerBytes + length]
            let stored = bytes[offset + headerBytes + length..<offset + recordBytes]
            guard stored.elementsEqual(checksum(body)), let entry = try? WALEntry.decode(Array(body)) else {
                throw .corruptWAL(offset: offset)
            }
            entries.append(entry)
            offset += recordBytes
        }
        return WALRecovery(entries: entries, intactBytes: offset, tail: .clean)
    }

    private static func checksum(_ body: ArraySlice<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: body).prefix(checksumBytes))
    }
}

/// What `WALRecords.recover` found.
public struct WALRecovery: Equatable, Sendable {
    /// Every complete record, in append order.
    public let entries: [WALEntry]
    /// Bytes up to the end of the last complete record: the log is truncated here before new appends.
    public let intactBytes: Int
    public let tail: WALTail
}

/// The end of a recovered log.
public enum WALTail: Equatable, Sendable {
    /// The log ends with a complete record.
    case clean
    /// The last `bytes` bytes are the prefix of a record whose append did not finish (dropped).
    case torn(bytes: Int)
}
