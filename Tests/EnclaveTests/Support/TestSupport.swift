import Crypto
import Foundation
import Logging
import Synchronization

@testable import Enclave

/// A fresh directory under the system temporary directory, removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init(_ name: String = #function) throws {
        let sanitized = name.filter { $0.isLetter || $0.isNumber }
        path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "enclave-tests-\(sanitized)-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
}

/// Collects log messages so tests can check what a component said.
final class CapturedLog: Sendable {
    private let entries = Mutex<[(Logger.Level, String)]>([])

    var messages: [(level: Logger.Level, message: String)] { entries.withLock { $0.map { ($0.0, $0.1) } } }

    func logger(label: String = "test") -> Logger {
        Logger(label: label) { _ in CapturingHandler(log: self) }
    }

    fileprivate func append(_ level: Logger.Level, _ message: String) {
        entries.withLock { $0.append((level, message)) }
    }
}

private struct CapturingHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        log.append(event.level, "\(event.message)")
    }
}

/// A logger that drops everything (for tests that do not look at logs).
let quietLogger = Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() }

func randomKey() -> SymmetricKey { SymmetricKey(size: .bits256) }

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

/// Every offset where `needle` occurs in `haystack`.
func offsets(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
    guard !needle.isEmpty, haystack.count >= needle.count else { return [] }
    var found: [Int] = []
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if Array(haystack[start..<start + needle.count]) == needle { found.append(start) }
    }
    return found
}

func readFile(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Removes SQLite's side files so that a copied or edited main file is opened on its own.
func removeSideFiles(_ path: String) {
    try? FileManager.default.removeItem(atPath: path + "-wal")
    try? FileManager.default.removeItem(atPath: path + "-shm")
}

func hex(_ string: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = string.startIndex
    while index < string.endIndex {
        let next = string.index(index, offsetBy: 2)
        result.append(UInt8(string[index..<next], radix: 16)!)
        index = next
    }
    return result
}
