import Foundation

/// Where the test data lives, and how tests reach the Python oracles.
///
/// The data is in the repository, under `Tests/Fixtures` (provenance and SHA-256 of every file in
/// `Tests/Fixtures/SOURCES.md`). `$DARKNODE_TESTDATA` overrides the directory, for trying other data with the same
/// layout.
///
/// Every read goes through a throwing function whose error names the file, so a missing or unreadable file is a
/// test failure that says which file, never a crash of the test process.
///
/// Test-only: no production target depends on this module.
public enum TestData {
    /// A test-data file that could not be read or decoded.
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
        public var description: String {
            "test data \(path): \(reason) (test data root: \(TestData.root.path)\(TestData.overrideNote))"
        }
    }

    /// The repository root, found from this file's path (Sources/TestSupport/TestData.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures` in the repository, or `$DARKNODE_TESTDATA` when set.
    public static var root: URL {
        if let override = ProcessInfo.processInfo.environment["DARKNODE_TESTDATA"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        return repositoryRoot.appendingPathComponent("Tests/Fixtures")
    }

    static var overrideNote: String {
        ProcessInfo.processInfo.environment["DARKNODE_TESTDATA"].map { $0.isEmpty ? "" : ", set by $DARKNODE_TESTDATA" } ?? ""
    }

    /// A file under the test-data root, e.g. `url("crypto/keccak/ShortMsgKAT_256.txt")`. Does not check that it exists;
    /// use `path(_:)` to hand a file's path to another process.
    public static func url(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    /// The absolute path of an existing, readable test-data file (for passing to an oracle process).
    public static func path(_ relativePath: String) throws -> String {
        let path = url(relativePath).path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw Failure(path: path, reason: FileManager.default.fileExists(atPath: path) ? "not readable" : "missing")
        }
        return path
    }

    /// The contents of a test-data file.
    public static func read(_ relativePath: String) throws -> Data {
        let file = url(relativePath)
        do {
            return try Data(contentsOf: file)
        } catch {
            let reason = FileManager.default.fileExists(atPath: file.path) ? "unreadable (\(error.localizedDescription))" : "missing"
            throw Failure(path: file.path, reason: reason)
        }
    }

    /// The bytes of a test-data file.
    public static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try read(relativePath))
    }

    /// A test-data text file (UTF-8).
    public static func text(_ relativePath: String) throws -> String {
        guard let text = String(data: try read(relativePath), encoding: .utf8) else {
            throw Failure(path: url(relativePath).path, reason: "not UTF-8")
        }
        return text
    }

    /// A test-data JSON file, decoded.
    public static func json<T: Decodable>(_ relativePath: String, as type: T.Type) throws -> T {
        let data = try read(relativePath)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw Failure(path: url(relativePath).path, reason: "does not decode as \(T.self): \(error)")
        }
    }

    /// A test-data JSON file, parsed with JSONSerialization.
    public static func jsonObject(_ relativePath: String) throws -> Any {
        let data = try read(relativePath)
        do {
            return try JSONSerialization.jsonObject(with: data)
        } catch {
            throw Failure(path: url(relativePath).path, reason: "is not JSON: \(error)")
        }
    }

    /// The names of the files in a test-data directory, sorted.
    public static func fileNames(in relativePath: String) throws -> [String] {
        let directory = url(relativePath)
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        } catch {
            throw Failure(path: directory.path, reason: "directory missing or unreadable")
        }
    }
}

/// Runs the independent Python oracles (scripts/oracles/*.py) in the virtualenv the test command creates.
///
/// Whether an oracle test may be skipped:
/// - under `make test` (which creates `.venv` and sets `$DARKNODE_PYTHON`), under `CI=true`, or with
///   `DARKNODE_REQUIRE_ORACLES=1`, the oracles are required: a missing interpreter is a test failure, and a missing
///   Python package makes the oracle script exit non-zero, which is a failure too;
/// - otherwise (a plain `swift test` with no `.venv`), oracle tests skip, and the test output says so once.
public enum PythonOracle {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `$DARKNODE_PYTHON`, else `.venv/bin/python` in the repository.
    public static var interpreter: URL {
        if let override = ProcessInfo.processInfo.environment["DARKNODE_PYTHON"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        return repositoryRoot.appendingPathComponent(".venv/bin/python")
    }

    static var repositoryRoot: URL { TestData.repositoryRoot }

    /// Whether the oracle interpreter exists. When it does not and the oracles are not required, prints (once per
    /// test process) that the oracle tests are skipped.
    public static var isAvailable: Bool {
        let available = FileManager.default.isExecutableFile(atPath: interpreter.path)
        if !available && !isRequired { _ = announceSkip }
        return available
    }

    /// Whether a missing oracle is a failure: `$DARKNODE_PYTHON` set (as `make test` does), `CI=true`, or
    /// `DARKNODE_REQUIRE_ORACLES=1`.
    public static var isRequired: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] == "true" || environment["DARKNODE_REQUIRE_ORACLES"] == "1"
            || !(environment["DARKNODE_PYTHON"] ?? "").isEmpty
    }

    /// The failure message for a required but missing interpreter.
    public static var missingMessage: String {
        "Python oracle required (\(requiredBecause)) but the interpreter \(interpreter.path) is missing; run `make setup-python`"
    }

    static var requiredBecause: String {
        let environment = ProcessInfo.processInfo.environment
        if !(environment["DARKNODE_PYTHON"] ?? "").isEmpty { return "$DARKNODE_PYTHON is set" }
        if environment["CI"] == "true" { return "CI=true" }
        return "DARKNODE_REQUIRE_ORACLES=1"
    }

    /// Printed the first time an oracle test finds no interpreter while oracles are optional.
    static let announceSkip: Void = {
        let note = "note: Python oracle tests SKIPPED: no interpreter at \(interpreter.path). `make test` creates it "
            + "(.venv) and makes these tests required.\n"
        FileHandle.standardError.write(Data(note.utf8))
    }()

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
        do {
            try process.run()
        } catch {
            throw Failure(description: "oracle \(script): cannot start \(interpreter.path): \(error)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw Failure(description: "oracle \(script) exited \(process.terminationStatus): \(err)")
        }
        return try Data(contentsOf: outURL)
    }
}
