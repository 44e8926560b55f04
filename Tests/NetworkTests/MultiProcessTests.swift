import Foundation
import Testing

/// Separate OS processes meeting over loopback: `darknode-meshtest net demo` starts one process per node, each a
/// simulated enclave that attests over EKEP.
@Suite struct MultiProcessTests {
    /// The test executable (the mesh's test modes, not in the shipped `darknode`) built next to the test bundle.
    static var meshTest: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("darknode-meshtest")
    }

    /// Exactly once by message identity: each broadcast carries its sender's sequence number, and every node must
    /// have every number from every peer once — not merely the right count, which a duplicate could make up for a
    /// loss.
    @Test func sevenProcessesInAFullMeshDeliverEveryBroadcastExactlyOnce() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.meshTest.path) else {
            Issue.record("darknode-meshtest executable not found at \(Self.meshTest.path)")
            return
        }
        let messages = 300
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("net-demo-\(UUID().uuidString).json")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let process = Process()
        process.executableURL = Self.meshTest
        process.arguments = ["net", "demo", "--nodes", "7", "--messages", "\(messages)", "--json"]
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        try process.run()
        // Poll without holding a thread of the shared pool; a hang ends in a bounded, named failure.
        let deadline = ContinuousClock.now + .seconds(600)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning {
            process.terminate()
            Issue.record("net demo with 7 processes did not finish within 600 s; terminated")
            return
        }
        #expect(process.terminationStatus == 0)
        let text = try String(contentsOf: outputFile, encoding: .utf8)
        let reports = text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        #expect(reports.count == 7)
        for report in reports {
            let peers = report["peers"] as? [[String: Any]] ?? []
            #expect(peers.count == 6)
            for peer in peers {
                let who = String(describing: peer["identity"] ?? "?").prefix(16)
                #expect(peer["distinct"] as? Int == messages, "every sequence number from \(who)")
                #expect(peer["missing"] as? Int == 0, "none missing from \(who)")
                #expect(peer["duplicates"] as? Int == 0, "none twice from \(who)")
                #expect(peer["malformed"] as? Int == 0, "nothing unnumbered from \(who)")
            }
        }
    }
}
