import Foundation
import Testing
import TestSupport

/// The shard as real processes: `darknode localnet` creates a committee and runs it; then the same nodes run as
/// separate `darknode run --genesis` processes over EKEP with simulated attestation, one is killed with SIGKILL
/// mid-run and restarted from its sealed store, and it catches up with the others.
@Suite("darknode localnet / run --genesis (subprocesses)", .serialized)
struct LocalnetProcessTests {
    static var darknode: URL { AttestCLITests.darknode }

    /// A running `darknode run` whose JSON lines go to a file we poll.
    final class NodeProcess {
        let process = Process()
        let log: URL

        init(dataDir: String, port: Int, genesis: String, log: URL) throws {
            self.log = log
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.executableURL = LocalnetProcessTests.darknode
            process.arguments = ["run", "--data-dir", dataDir, "--listen", "127.0.0.1:\(port)", "--genesis", genesis,
                                 "--status-interval-ms", "1000", "--idle-block-interval-ms", "50"]
            let handle = try FileHandle(forWritingTo: log)
            handle.seekToEndOfFile()
            process.standardOutput = handle
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
        }

        var events: [[String: Any]] {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        }

        var decidedHeight: UInt64 {
            events.filter { $0["event"] as? String == "decided" }.compactMap { ($0["height"] as? NSNumber)?.uint64Value }.max() ?? 0
        }

        func kill() {
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        deinit { kill() }
    }

    @Test func localnetDecidesThenAKilledNodeRestartsAndCatchesUp() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("localnet-test-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let basePort = Int.random(in: 20_000...40_000)
        // 1. The localnet command itself with its demo: creates four nodes and a genesis, generates the key, then as a
        //    JSON-RPC client relays regtest headers, mints three deposits (each authorisation checked by the demo
        //    against the shard key's EVM address) and sweeps them, and stops every process.
        let localnet = try AttestCLITests.run(Self.darknode, ["localnet", "--nodes", "4", "--demo", "--dir", dir,
                                                              "--base-port", "\(basePort)"])
        #expect(localnet.status == 0, "localnet failed: \(localnet.standardOutput) \(localnet.standardError)")
        #expect(localnet.standardOutput.contains("stopping (demo complete)"))
        #expect(localnet.standardOutput.components(separatedBy: "✓").count - 1 == 3, "three mint authorisations verified")
        #expect(localnet.standardOutput.contains("spends 3 custody coin(s)"))
        #expect(localnet.standardOutput.contains("attested and connected to all 3 peers"))
        // Key generation ran across the four processes (consensus as the MPC broadcast) and the key was registered.
        #expect(localnet.standardOutput.contains("localnet: shard key"), "no shard key: \(localnet.standardOutput)")
        #expect(localnet.standardOutput.contains("localnet: EVM address      0x"))
        let genesis = dir + "/genesis.json"
        #expect(FileManager.default.fileExists(atPath: genesis))

        // 2. The same four nodes as separate processes; they resume from their sealed stores.
        var nodes: [NodeProcess] = try (0..<4).map { i in
            try NodeProcess(dataDir: dir + "/node-\(i)", port: basePort + i, genesis: genesis, log: URL(fileURLWithPath: dir + "/run-\(i).jsonl"))
        }
        defer { for n in nodes { n.kill() } }
        #expect(await waitFor("every node past height 10", seconds: 120) { nodes.allSatisfy { $0.decidedHeight >= 10 } })
        let started = nodes.compactMap { ($0.events.first { $0["event"] as? String == "consensus-started" }?["height"] as? NSNumber)?.intValue }
        #expect(started.count == 4 && started.allSatisfy { $0 > 5 }, "nodes resumed after the localnet's height, not from genesis: \(started)")

        // 3. SIGKILL node 2; the other three keep deciding (3 of 4 is a quorum).
        nodes[2].kill()
        let killedAt = nodes[2].decidedHeight
        #expect(await waitFor("three nodes 15 heights further", seconds: 120) { [0, 1, 3].allSatisfy { nodes[$0].decidedHeight >= killedAt + 15 } })

        // 4. Restart it from its store: it resumes where its store stood and catches up by sync.
        nodes[2] = try NodeProcess(dataDir: dir + "/node-2", port: basePort + 2, genesis: genesis, log: URL(fileURLWithPath: dir + "/run-2b.jsonl"))
        #expect(await waitFor("restarted node caught up", seconds: 120) { nodes[2].decidedHeight >= nodes[0].decidedHeight - 1 && nodes[2].decidedHeight > killedAt + 15 })
        let restart = nodes[2].events.first { $0["event"] as? String == "consensus-started" }
        #expect(((restart?["height"] as? NSNumber)?.uint64Value ?? 0) >= killedAt, "restarted from its sealed state")
        #expect(nodes.allSatisfy { n in !n.events.contains { $0["event"] as? String == "fatal" } })
    }
}
