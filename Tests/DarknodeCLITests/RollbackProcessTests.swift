import Foundation
import Testing
import TestSupport

/// Issue 17 item 3: the host restores an older copy of a member's data directory after the member signed votes at
/// higher heights. Before, the member started from the old store at its old height and signed there again (it
/// re-sends its write-ahead log and votes in rounds it had already left: equivocation). Now it asks its peers for
/// the highest consensus message they saw it sign (self-authenticating: only its enclave holds the key), and a
/// store that does not reach that message refuses to start: exit status ≠ 0, the reason in its log, consensus never
/// started. A restart on the intact directory passes the same check.
@Suite("darknode run refuses a rolled-back data directory (subprocesses)", .serialized)
struct RollbackProcessTests {
    typealias Child = HardwareMeshProcessTests.Child

    static func decidedHeight(_ child: Child) -> Int {
        child.events("decided").compactMap { $0["height"] as? Int }.max() ?? 0
    }

    @Test func aMemberRestartedOnAnOlderCopyOfItsDataDirectoryRefusesToStart() async throws {
        let work = try AttestCLITests.Workspace()
        let root = work.path
        let basePort = Int.random(in: 20_000...40_000)
        // localnet makes the four members (genesis, data directories, darknode.toml) and the shard key, then exits.
        let localnet = try Child(["localnet", "--nodes", "4", "--blocks", "2", "--dir", root, "--base-port", "\(basePort)"],
                                 logs: root + "/localnet")
        try #require(await localnet.exitStatus(within: 180) == 0, "localnet: \(localnet.standardOutput.suffix(2_000))")

        func member(_ i: Int, _ label: String) throws -> Child {
            try Child(["run", "--data-dir", root + "/node-\(i)", "--idle-block-interval-ms", "50"], logs: root + "/member-\(i)-\(label)")
        }
        var members = try (0..<4).map { try member($0, "first") }
        defer { for m in members { m.kill() } }
        let first = members[0]
        try #require(await waitFor("member 0 deciding height 20", seconds: 120) { Self.decidedHeight(first) >= 20 })

        // The host's copy: taken while member 0 is stopped (a clean copy of an old but consistent directory).
        await first.stop()
        try #require(!first.process.isRunning)
        let copiedAt = Self.decidedHeight(first)
        try FileManager.default.copyItem(atPath: root + "/node-0", toPath: root + "/node-0.copy")

        // Restarted on its intact directory, member 0 passes the check and signs at many more heights.
        let restarted = try member(0, "intact")
        members[0] = restarted
        try #require(await waitFor("member 0, restarted intact, deciding 15 more heights", seconds: 120) {
            Self.decidedHeight(restarted) >= copiedAt + 15
        }, "member 0: \(restarted.standardOutput.suffix(1_500))")
        #expect(restarted.events("fatal").isEmpty)

        // The host kills it and puts the old copy back.
        restarted.kill()
        try #require(await restarted.exitStatus(within: 30) != nil)
        try FileManager.default.removeItem(atPath: root + "/node-0")
        try FileManager.default.moveItem(atPath: root + "/node-0.copy", toPath: root + "/node-0")

        let rolledBack = try member(0, "rolled-back")
        members[0] = rolledBack
        let status = await rolledBack.exitStatus(within: 60)
        #expect(status != nil && status != 0, "a rolled-back member must exit with a failure; status \(String(describing: status))")
        let fatal = rolledBack.events("fatal").compactMap { $0["reason"] as? String }
        #expect(fatal.contains { $0.contains("rolled back") }, "log: \(rolledBack.standardOutput.suffix(1_500))")
        #expect(rolledBack.events("consensus-started").isEmpty, "consensus must not start on a rolled-back store")
        for m in members { await m.stop() }
    }
}
