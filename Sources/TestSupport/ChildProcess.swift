import Foundation

/// Child processes for tests, waited for without holding a thread of the shared cooperative pool and always within a
/// bound: a hung child is killed and fails its test with a message naming the command, instead of stalling the suite.
public enum ChildProcess {
    public struct Output: Sendable {
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
    }

    /// A child that did not exit within its bound (it has been killed).
    public struct Timeout: Error, CustomStringConvertible {
        public let command: String
        public let seconds: Int
        public var description: String { "`\(command)` did not exit within \(seconds) s; killed" }
    }

    /// Runs `executable` to completion within `timeout`; stdout and stderr go through temporary files (a pipe that
    /// nobody reads can fill and block the child).
    public static func run(_ executable: URL, _ arguments: [String], timeout: Duration = .seconds(300),
                           environment: [String: String]? = nil) async throws -> Output {
        let directory = FileManager.default.temporaryDirectory
        let outputURL = directory.appendingPathComponent("child-\(UUID().uuidString).out")
        let errorURL = directory.appendingPathComponent("child-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outputURL)
            try? FileManager.default.removeItem(at: errorURL)
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        try process.run()
        guard await waitForExit(process, within: timeout) else {
            killNow(process)
            throw Timeout(command: ([executable.lastPathComponent] + arguments).joined(separator: " "),
                          seconds: Int(timeout.components.seconds))
        }
        return Output(
            status: process.terminationStatus,
            standardOutput: String(decoding: try Data(contentsOf: outputURL), as: UTF8.self),
            standardError: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self))
    }

    /// Waits, polling, until `process` has exited or `bound` has passed; returns whether it exited.
    public static func waitForExit(_ process: Process, within bound: Duration) async -> Bool {
        let deadline = ContinuousClock.now + bound
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !process.isRunning
    }

    /// SIGTERM, then SIGKILL if the process has not exited within `bound`; returns whether SIGTERM sufficed.
    @discardableResult
    public static func stop(_ process: Process, within bound: Duration = .seconds(30)) async -> Bool {
        guard process.isRunning else { return true }
        process.terminate()
        let stopped = await waitForExit(process, within: bound)
        if !stopped { killNow(process) }
        return stopped
    }

    /// SIGKILL now if still running, and reap it: for `defer` blocks, which cannot wait asynchronously.
    public static func killNow(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
