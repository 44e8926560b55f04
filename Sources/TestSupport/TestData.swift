import Foundation

/// Where the shared, independently sourced test data lives, and how tests reach the Python oracles.
///
/// Test-only: no production target depends on this module.
public enum TestData {
    /// The repository root, found from this file's path (Sources/TestSupport/TestData.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/testdata` beside the repository, or `$DARKNODE_TESTDATA` when set.
    public static var root: URL {
        if let override = ProcessInfo.processInfo.environment["DARKNODE_TESTDATA"] {
            return URL(fileURLWithPath: override)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")
    }

    /// A file under the test-data root, e.g. `url("crypto/keccak/ShortMsgKAT_256.txt")`.
    public static func url(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    /// The bytes of a test-data file.
    public static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(relativePath)))
    }

    /// A test-data JSON file, decoded.
    public static func json<T: Decodable>(_ relativePath: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(relativePath)))
    }
}

/// Runs the independent Python oracles (scripts/oracles/*.py) in the virtualenv the test command creates.
public enum PythonOracle {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `$DARKNODE_PYTHON`, else `.venv/bin/python` in the repository.
    public static var interpreter: URL {
        if let override = ProcessInfo.processInfo.environment["DARKNODE_PYTHON"] {
            return URL(fileURLWithPath: override)
        }
        return repositoryRoot.appendingPathComponent(".venv/bin/python")
    }

    static var repositoryRoot: URL { TestData.repositoryRoot }

    /// Whether the oracle interpreter exists. Under CI (`CI=true`) a missing interpreter is a failure, not a skip.
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: interpreter.path)
    }

    public static var isRequired: Bool {
        ProcessInfo.processInfo.environment["CI"] == "true"
    }

    /// Runs `scripts/oracles/<script>` with `arguments`, feeding `input` on stdin; returns stdout.
    /// Throws with stderr when the script exits non-zero. Input and output go through temporary files so that
    /// large transfers cannot deadlock on pipe buffers.
    public static func run(script: String, arguments: [String] = [], input: Data = Data()) throws -> Data {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inURL = dir.appendingPathComponent("in"), outURL = dir.appendingPathComponent("out")
        let errURL = dir.appendingPathComponent("err")
        try input.write(to: inURL)
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = interpreter
        process.arguments = [repositoryRoot.appendingPathComponent("scripts/oracles/\(script)").path] + arguments
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw Failure(description: "oracle \(script) exited \(process.terminationStatus): \(err)")
        }
        return try Data(contentsOf: outURL)
    }
}
