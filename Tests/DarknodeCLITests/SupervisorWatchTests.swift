import Foundation
import Testing
import TestSupport

/// A node started by a supervisor stops when the supervisor is gone — also when the supervisor died while the node
/// was still starting. The watch used to begin only once the node was up and took the parent it saw then as its
/// supervisor: a member of a `localnet` stopped right after it spawned its members was already re-parented by then,
/// so it never noticed and ran on as an orphan (seen: four members alive 38 min after their test ended).
@Suite("a supervised node stops with its supervisor (subprocess)")
struct SupervisorWatchTests {
    @Test func aNodeWhoseSupervisorDiedDuringStartUpStops() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("darknode-supervisor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let dataDir = root.appendingPathComponent("node").path
        let initialised = try await ChildProcess.run(AttestCLITests.darknode, ["init", "--data-dir", dataDir, "--platform", "simulated"],
                                                     timeout: .seconds(120))
        #expect(initialised.status == 0, "init: \(initialised.standardError)")
        // The supervisor is a shell that names itself (its pid) as the node's supervisor, starts the node in the
        // background and exits at once: the node starts up already orphaned.
        let log = root.appendingPathComponent("run.out").path
        let pidFile = root.appendingPathComponent("node.pid").path
        let script = "DARKNODE_STOP_WITH_PARENT=$$ '\(AttestCLITests.darknode.path)' run --data-dir '\(dataDir)' --listen 127.0.0.1:0"
            + " --status-interval-ms 60000 > '\(log)' 2>&1 & echo $! > '\(pidFile)'"
        // Not waited for through Foundation: the node inherits the descriptor Foundation watches for the shell's
        // exit, so the shell would look alive for as long as the node runs.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", script]
        try shell.run()
        var node: pid_t?
        let pidDeadline = ContinuousClock.now + .seconds(30)
        while node == nil, ContinuousClock.now < pidDeadline {
            node = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if node == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard let node else {
            Issue.record("the supervisor shell wrote no pid within 30 s")
            return
        }
        defer { kill(node, SIGKILL) }
        // The node is not our child, so poll for its pid to disappear (a zombie is reaped by init).
        let deadline = ContinuousClock.now + .seconds(60)
        while kill(node, 0) == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(kill(node, 0) != 0, "the orphaned node was still running after 60 s; its output:\n\(output)")
        #expect(output.contains("\"parent-exited\""), "the node says why it stopped")
    }
}
