import Crypto
import Foundation
import Synchronization

/// A monotonic value kept outside the store file, so that replacing the file with an older copy is noticed.
///
/// The store records its counter here after every committed batch (after, never before: a crash in between leaves
/// the anchor behind the store, which is safe). At open, a store whose counter is below `anchoredCounter()` was
/// rolled back and refuses to open. An anchor is only as good as the place it lives: storage the attacker cannot roll
/// back together with the database. None of the node's platforms offers a persistent monotonic counter to the node
/// (docs/enclave.md, "Platform monotonic counters"), so a node anchors to consensus height (`SealedStore.anchorExternal(_:)`,
/// `minimumExternalAnchor`, and the peers' memory of what it signed).
public protocol RollbackAnchor: Sendable {
    /// The highest store counter recorded so far (0 before the first record).
    func anchoredCounter() throws -> UInt64
    /// Records that the store reached `counter`. Never lowers the recorded value.
    func record(counter: UInt64) throws
}

/// An anchor held in memory (a model of a counter the host cannot reset), for tests and single-run tools; it forgets
/// everything when the process ends.
public final class InMemoryRollbackAnchor: RollbackAnchor {
    private let value: Mutex<UInt64>

    public init(_ initial: UInt64 = 0) {
        value = Mutex(initial)
    }

    public func anchoredCounter() -> UInt64 {
        value.withLock { $0 }
    }

    public func record(counter: UInt64) {
        value.withLock { $0 = max($0, counter) }
    }
}

/// Why a file anchor could not be used.
public enum FileRollbackAnchorError: Error, Equatable, Sendable {
    /// The anchor file exists but is not 40 bytes, or its MAC does not match (it was edited or another key wrote it).
    case invalidAnchorFile(path: String)
    /// The anchor file could not be written.
    case writeFailed(path: String, reason: String)
}

/// An anchor kept in a small authenticated file: `counter (u64 BE) ‖ HMAC-SHA256(key, domain ‖ counter)`.
///
/// It is written to a temporary file and renamed over the old one, without fsync (a crash leaves the old value: the
/// anchor lags, which is safe; a torn file fails closed with `invalidAnchorFile`). It protects against rollback only when
/// it lives somewhere the database cannot be rolled back together with it (another volume, a host-provided
/// monotonic store); kept next to the database it documents intent and catches accidental restores of old backups.
public final class FileRollbackAnchor: RollbackAnchor {
    static let domain: [UInt8] = Array("darknode/rollback-anchor/v1".utf8)
    public let path: String
    private let key: SymmetricKey
    private let lock = Mutex(())

    /// `sealingKey` is the platform sealing key; the MAC key is derived from it for this purpose only.
    public init(path: String, sealingKey: SymmetricKey) {
        self.path = path
        self.key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: sealingKey, salt: FileRollbackAnchor.domain, info: Array("mac".utf8), outputByteCount: 32)
    }

    public func anchoredCounter() throws -> UInt64 {
        try lock.withLock { _ in try readLocked() }
    }

    public func record(counter: UInt64) throws {
        try lock.withLock { _ in
            guard counter > (try readLocked()) else { return }
            var bytes: [UInt8] = []
            SealedRecordCodec.appendUInt64(counter, to: &bytes)
            bytes += Array(HMAC<SHA256>.authenticationCode(for: FileRollbackAnchor.domain + bytes, using: key))
            do {
                try PlatformFiles.replaceFile(path, bytes)
            } catch {
                throw FileRollbackAnchorError.writeFailed(path: path, reason: "\(error)")
            }
        }
    }

    private func readLocked() throws -> UInt64 {
        guard PlatformFiles.exists(path) else { return 0 }
        guard let bytes = try? PlatformFiles.read(path, lengthMax: 40), bytes.count == 40 else {
            throw FileRollbackAnchorError.invalidAnchorFile(path: path)
        }
        let message = FileRollbackAnchor.domain + bytes[0..<8]
        guard HMAC<SHA256>.isValidAuthenticationCode(bytes[8..<40], authenticating: message, using: key) else {
            throw FileRollbackAnchorError.invalidAnchorFile(path: path)
        }
        return SealedRecordCodec.readUInt64(bytes[0..<8])
    }
}
