import API
import Foundation
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Goal: `darknode run --genesis G --rpc 127.0.0.1:0` serves the API backed by the real node runtime over a real
/// socket. Method: `darknode localnet --nodes 4` writes a four-member shard (genesis and data directories) and is
/// stopped; then `darknode run` of one member (its peer stays down, so no block is decided) with `--rpc`, reading the bound address from its `rpc-listening` line, and
/// plain HTTP requests from URLSession. The node's own rules answer: headers that do not attach to the relayed
/// chain are refused with the rule's code, and nothing reaches the mempool.
@Suite("darknode run --rpc (subprocess)")
struct RunRPCProcessTests {
    static var darknode: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("darknode")
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    @Test func runServesTheAPIBackedByTheNode() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.darknode.path) else {
            throw Failure(description: "executable not found at \(Self.darknode.path): build it with `swift build --build-tests`")
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("darknode-rpc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        // `localnet` writes the four-member shard (genesis, data directory) before it starts its node; it is stopped as
        // soon as the genesis exists, and the test runs the node itself. Its node listens on base-port: pick one
        // from this process's id so parallel runs differ.
        let basePort = 30_000 + Int(getpid() % 20_000)
        let localnetOut = work + "/localnet.out"
        _ = FileManager.default.createFile(atPath: localnetOut, contents: nil)
        let localnet = Process()
        localnet.executableURL = Self.darknode
        localnet.arguments = ["localnet", "--nodes", "4", "--dir", work, "--base-port", "\(basePort)"]
        localnet.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: localnetOut))
        localnet.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try localnet.run()
        defer { ChildProcess.killNow(localnet) }
        // Complete once it parses (it is written before the node starts).
        try await waitFor(work + "/genesis.json", process: localnet) { (try? JSONParser.parse(Array($0.utf8))) != nil }
        await ChildProcess.stop(localnet)
        // Members localnet had already started (it prints each one's pid) stop with it; none may still hold node-0's
        // store when this test opens it.
        let members = ((try? String(contentsOfFile: localnetOut, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            line.range(of: " is process ").flatMap { pid_t(line[$0.upperBound...].prefix { $0.isNumber }) }
        }
        let membersGone = Date().addingTimeInterval(30)
        while members.contains(where: { kill($0, 0) == 0 }), Date() < membersGone { try await Task.sleep(for: .milliseconds(50)) }

        let outPath = work + "/run.out"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        let node = Process()
        node.executableURL = Self.darknode
        node.arguments = ["run", "--data-dir", work + "/node-0", "--listen", "127.0.0.1:0", "--genesis", work + "/genesis.json",
                          "--rpc", "127.0.0.1:0", "--status-interval-ms", "60000"]
        node.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        node.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try node.run()
        defer { ChildProcess.killNow(node) }

        let address = try await rpcAddress(in: outPath, node: node)
        let url = URL(string: "http://\(address)/")!

        let status = try await post(url, #"{"jsonrpc":"2.0","id":1,"method":"darknode_status"}"#)
        guard case .number(let height)? = status["result"]?["height"], let h = Int(height) else {
            throw Failure(description: "no height in \(status)")
        }
        #expect(h >= 0)
        // Alone, the member's own key-generation broadcast waits in its mempool; nothing a client sent may join it.
        let waiting = status["result"]?["mempoolTransactions"]

        // A header whose parent is not in the relayed chain: well-formed, so it reaches the node, whose rules refuse it.
        let orphan = "04000000" + String(repeating: "11", count: 32) + String(repeating: "22", count: 32) + "00f15365" + "ffff7f20" + "00000000"
        let refused = try await post(url, #"{"jsonrpc":"2.0","id":2,"method":"darknode_submitHeaders","params":{"headers":["\#(orphan)"]}}"#)
        #expect(Optional(refused).errorCode == RPCError.rejectedCode)
        #expect(refused["error"]?["message"]?.string?.contains("do not attach") == true)

        let malformed = try await post(url, #"{"jsonrpc":"2.0","id":3,"method":"ren_submitTx","params":{"tx":{}}}"#)
        #expect(Optional(malformed).errorCode == RPCError.invalidParamsCode)

        let after = try await post(url, #"{"jsonrpc":"2.0","id":4,"method":"darknode_status"}"#)
        #expect(after["result"]?["mempoolTransactions"] == waiting, "refused submissions left the mempool as it was")

        #expect(await ChildProcess.stop(node), "the node did not stop on SIGTERM within 30 s")
        let lines = try String(contentsOfFile: outPath, encoding: .utf8)
        #expect(lines.contains(#""event":"stopping""#))
    }

    /// Waits until the file at `path` satisfies `done` (bounded, so a broken build fails instead of hanging).
    func waitFor(_ path: String, process: Process, _ done: (String) -> Bool) async throws {
        for _ in 0..<1_200 {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if done(text) { return }
            guard process.isRunning else { throw Failure(description: "darknode exited \(process.terminationStatus): \(text)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "\(path) never showed what the test waits for")
    }

    /// The address of the `rpc-listening` line.
    func rpcAddress(in path: String, node: Process) async throws -> String {
        var address: String?
        try await waitFor(path, process: node) { text in
            for line in text.split(separator: "\n") where line.contains(#""rpc-listening""#) {
                if let object = try? JSONParser.parse(Array(line.utf8)) { address = object["address"]?.string }
            }
            return address != nil
        }
        return address!
    }

    func post(_ url: URL, _ body: String) async throws -> JSONValue {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        // Generous, bounded: the node runs beside the whole parallel suite on a 2-core machine.
        request.timeoutInterval = 300
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        return try JSONParser.parse(Array(data))
    }
}
