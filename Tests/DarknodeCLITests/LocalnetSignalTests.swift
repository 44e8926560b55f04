import Foundation
import Testing
import TestSupport

/// `darknode localnet` leaves no orphans: Ctrl-C (SIGINT) stops every member and the command exits 0; a localnet
/// killed with SIGKILL cannot stop anything itself, and its members notice they were re-parented and stop (before
/// `DARKNODE_STOP_WITH_PARENT` they died of SIGPIPE on their next status line, an abrupt stop; now they stop
/// gracefully, and ignore SIGPIPE).
@Suite("darknode localnet stops its members (subprocesses)", .serialized)
struct LocalnetSignalTests {
    /// `localnet` in the background, its output in a file.
    final class Localnet {
        let process = Process()
        let log: URL

        init(dir: String, basePort: Int) throws {
            log = URL(fileURLWithPath: dir + "-localnet.out")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.executableURL = AttestCLITests.darknode
            process.arguments = ["localnet", "--nodes", "4", "--dir", dir, "--base-port", "\(basePort)"]
            process.standardOutput = try FileHandle(forWritingTo: log)
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
        }

        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        /// The member processes, from the lines `localnet: node I is process PID`.
        var members: [pid_t] {
            output.split(separator: "\n").compactMap { line in
                guard line.hasPrefix("localnet: node "), let range = line.range(of: " is process ") else { return nil }
                return pid_t(line[range.upperBound...].prefix { $0.isNumber })
            }
        }

        var startedMembers: Int { output.split(separator: "\n").filter { $0.contains(": consensus started at height") }.count }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// Whether a process is gone (or a zombie no one has reaped yet: it runs nothing and holds no port).
    static func exited(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return true }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    @Test func ctrlCStopsEveryMemberAndSigkillLeavesNoOrphans() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("localnet-signal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let basePort = Int.random(in: 20_000...40_000)

        // 1. Ctrl-C: the localnet stops its members and exits 0.
        let first = try Localnet(dir: dir, basePort: basePort)
        try #require(await waitFor("four members running consensus", seconds: 180) { first.members.count == 4 && first.startedMembers == 4 }, "\(first.output)")
        let members = first.members
        kill(first.process.processIdentifier, SIGINT)
        #expect(await waitFor("the localnet to exit after Ctrl-C", seconds: 60) { !first.process.isRunning })
        #expect(first.process.terminationStatus == 0, "\(first.output)")
        #expect(first.output.contains("stopping (signal SIGINT)"))
        #expect(members.allSatisfy(Self.exited), "members still running after Ctrl-C: \(members.filter { !Self.exited($0) })")

        // 2. SIGKILL: the same shard again; the localnet dies without a word and its members stop by themselves.
        let second = try Localnet(dir: dir, basePort: basePort)
        try #require(await waitFor("four members running again", seconds: 180) { second.members.count == 4 && second.startedMembers == 4 }, "\(second.output)")
        let orphans = second.members
        #expect(Set(orphans).isDisjoint(with: members))
        kill(second.process.processIdentifier, SIGKILL)
        #expect(await waitFor("the killed localnet to be gone", seconds: 30) { !second.process.isRunning })
        #expect(await waitFor("every member of the killed localnet stopped", seconds: 60) { orphans.allSatisfy(Self.exited) })
        for pid in orphans where !Self.exited(pid) { kill(pid, SIGKILL) }
    }
}
