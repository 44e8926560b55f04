/// Why the sealed store refused to open, read or write. Every kind of tampering maps to one of these; none of
/// them carries a value or key material (row keys are not secret: see docs/enclave.md).
public enum SealedStoreError: Error, Equatable, Sendable {
    /// `create` found a file already at the path.
    case storeExists(path: String)
    /// `open` found no file at the path.
    case storeMissing(path: String)
    /// The file is a database but not a sealed store (no store metadata).
    case notAStore
    /// SQLite reports the file as damaged (bit flips in page structure, truncation, not a database).
    case databaseCorrupt(reason: String)
    /// Any other SQLite failure (I/O error, disk full, locked).
    case database(reason: String)
    /// The store was written by a newer schema than this build knows.
    case unknownSchema(identifiers: [String])
    /// The store's format byte is not one this build reads.
    case unsupportedFormat(UInt8)
    /// The store was sealed under a different key (another enclave identity, policy or machine).
    case wrongSealingKey
    /// The store head (counter, row-set digest) failed authentication: it was modified.
    case headTampered
    /// A row failed authentication: its bytes were changed, or it was swapped or moved to another key or table.
    case rowTampered(table: String, key: [UInt8])
    /// A row claims a version newer than the store's counter (it came from a later copy of the store).
    case rowFromFuture(table: String, key: [UInt8], version: UInt64, counter: UInt64)
    /// The set of rows differs from the one the head commits to: a row was added, deleted or replayed from an
    /// older copy.
    case rowSetMismatch
    /// A row's version is not the one this store last wrote for it (nil: no row), checked on every read: an
    /// authentic older row was put back, a row deleted, or a deleted row restored, behind the open store's back.
    case rowVersionMismatch(table: String, key: [UInt8], stored: UInt64?, expected: UInt64?)
    /// The store's counter is older than the last value anchored outside it: the file was rolled back.
    case rolledBack(storeCounter: UInt64, anchoredCounter: UInt64)
    /// The external value recorded in the store (e.g. consensus height) is lower than the caller requires.
    case externalAnchorBehind(stored: UInt64, required: UInt64)
    /// An external anchor may only move forwards.
    case externalAnchorDecrease(current: UInt64, requested: UInt64)
    /// The rollback anchor could not be read or advanced.
    case anchorFailed(reason: String)
    /// A table name is empty, too long, or not printable ASCII.
    case invalidTableName(String)
    /// A row key is empty or longer than `SealedStore.Limits.rowKeyBytesMax`.
    case invalidRowKeyLength(Int)
    /// A value is longer than `SealedStore.Limits.valueBytesMax`.
    case valueTooLarge(Int)
    /// A batch has more operations than `SealedStore.Limits.batchOperationsMax`.
    case batchTooLarge(Int)
    /// The store was closed.
    case closed
}
