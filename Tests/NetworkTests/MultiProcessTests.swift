import Foundation
import Testing

/// Separate OS processes meeting over loopback: `darknode net demo` starts one process per node, each a simulated
/// enclave that attests over EKEP.
@Suite struct MultiProcessTests {
    /// The darknode executable built next to the test bundle.
    static var darknode: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("darknode")
    }

    @Test func sevenProcessesInAFullMeshDeliverEveryBroadcastExactlyOnce() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.darknode.path) else {
            Issue.record("darknode executable not found at \(Self.darknode.path)")
            return
        }
        let process = Process()
        process.executableURL = Self.darknode
        process.arguments = ["net", "demo", "--nodes", "7", "--messages", "300", "--json"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let reports = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        #expect(reports.count == 7)
        for report in reports {
            #expect(report["received"] as? Int == 6 * 300)
            let peers = report["peers"] as? [[String: Any]] ?? []
            #expect(peers.count == 6)
            #expect(peers.allSatisfy { $0["received"] as? Int == 300 }, "exactly once from each peer")
        }
    }
}
