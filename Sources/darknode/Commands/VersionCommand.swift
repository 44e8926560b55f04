import ArgumentParser
import Crypto
import Foundation

/// Release identity of this build.
enum DarknodeVersion {
    static let version = "0.1.0"

    static var buildConfiguration: String {
        #if DEBUG
            return "debug"
        #else
            return "release"
        #endif
    }

    /// The path of the running executable, from /proc/self/exe (not argv[0], which the caller controls).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
    }

    /// SHA-256 of the running executable file: the simulated enclave's measurement.
    static func executableSHA256() throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: executablePath))
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// `darknode version`: version, git commit, build configuration and the executable's own SHA-256.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version, git commit, build configuration and SHA-256 of this executable.")

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let digest = try DarknodeVersion.executableSHA256()
        let fields: [(String, String)] = [
            ("version", DarknodeVersion.version),
            ("gitCommit", BuildInfo.gitCommit),
            ("buildConfiguration", DarknodeVersion.buildConfiguration),
            ("executable", DarknodeVersion.executablePath),
            ("executableSHA256", digest),
        ]
        if json {
            let object = Dictionary(uniqueKeysWithValues: fields)
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for (key, value) in fields { print("\(key): \(value)") }
        }
    }
}
