import Foundation
import Testing
import TestSupport

/// `darknode run` and `darknode peer ping` as separate processes with their own data directories (two data
/// directories are two simulated machines), meeting over EKEP with attestation on loopback.
@Suite(.serialized) struct NodeProcessTests {
    /// The shipped executable, built next to the test bundle.
    static var darknode: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("darknode").path
    }

    /// Runs `darknode` to completion (killed and failed after 120 s); returns its exit status and standard output.
    @discardableResult
    static func darknode(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let result = try await ChildProcess.run(URL(fileURLWithPath: darknode), arguments, timeout: .seconds(120))
        return (result.status, result.standardOutput)
    }

    static func json(_ line: some StringProtocol) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    /// A fresh data directory initialised on the simulated platform; returns its path and identity key (hex).
    static func initNode(in root: URL, _ name: String) async throws -> (path: String, identity: String) {
        let path = root.appendingPathComponent(name).path
        let initialised = try await darknode(["init", "--data-dir", path, "--platform", "simulated"])
        try #require(initialised.status == 0, "darknode init failed")
        let shown = try await darknode(["attest", "show", "--data-dir", path, "--nonce", "00"])
        let identity = try #require(json(shown.output)?["identityKey"] as? String)
        return (path, identity)
    }

    static func temporaryRoot() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("darknode-node-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root
    }

    @Test func pingReachesAnAdmittingNodeAndAnUnadmittedNodeIsRefused() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.darknode), "darknode executable not built")
        let root = try Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let a = try await Self.initNode(in: root, "a")
        let b = try await Self.initNode(in: root, "b")
        let stranger = try await Self.initNode(in: root, "stranger")
        let node = try RunningNode(arguments: ["run", "--data-dir", a.path, "--listen", "127.0.0.1:0", "--admit", b.identity])
        defer { node.stop() }
        let listening = try #require(await node.waitFor { $0["event"] as? String == "listening" })
        #expect(listening["identity"] as? String == a.identity)
        let address = try #require(listening["listen"] as? String)

        // An admitted node: the verified identity, platform and measurement of the peer, and answered pings.
        let ping = try await Self.darknode(["peer", "ping", "--data-dir", b.path, "--to", address, "--count", "3", "--json"])
        #expect(ping.status == 0)
        let result = try #require(Self.json(ping.output))
        #expect(result["ok"] as? Bool == true)
        let peer = try #require(result["peer"] as? [String: Any])
        #expect(peer["identity"] as? String == a.identity, "the identity bound in the peer's attestation")
        #expect(peer["platform"] as? String == "simulated")
        #expect(peer["measurement"] as? String == listening["measurement"] as? String)
        #expect((result["roundTripMilliseconds"] as? [Double])?.count == 3)
        #expect(await node.waitFor { $0["event"] as? String == "connected" && $0["identity"] as? String == b.identity } != nil)

        // Pinning the peer's identity: the right key passes, a wrong one is named in the error.
        let pinned = try await Self.darknode(["peer", "ping", "--data-dir", b.path, "--to", address, "--expect", a.identity, "--json"])
        #expect(pinned.status == 0)
        let wrong = try await Self.darknode(["peer", "ping", "--data-dir", b.path, "--to", address, "--expect", stranger.identity, "--json"])
        #expect(wrong.status == 1)
        #expect((Self.json(wrong.output)?["error"] as? String)?.contains(a.identity) == true)

        // A node outside the admission set: refused by the node, which says why; the ping fails with a reason.
        let refused = try await Self.darknode(["peer", "ping", "--data-dir", stranger.path, "--to", address, "--json"])
        #expect(refused.status == 1)
        let refusal = try #require(Self.json(refused.output))
        #expect(refusal["ok"] as? Bool == false)
        #expect((refusal["error"] as? String)?.contains("admission set") == true)
        let logged = await node.waitFor { $0["event"] as? String == "refused" && $0["identity"] as? String == stranger.identity }
        #expect((logged?["reason"] as? String)?.contains("admission set") == true)

        // Nobody listening: a clear error, not a hang.
        let closedPort = try await Self.darknode(["peer", "ping", "--data-dir", b.path, "--to", "127.0.0.1:1", "--json"])
        #expect(closedPort.status == 1)
        #expect((Self.json(closedPort.output)?["error"] as? String)?.hasPrefix("cannot connect") == true)
    }

    @Test func twoNodesStayConnectedThroughRepeatedReattestation() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.darknode), "darknode executable not built")
        let root = try Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let a = try await Self.initNode(in: root, "a")
        let b = try await Self.initNode(in: root, "b")
        let nodeA = try RunningNode(arguments: [
            "run", "--data-dir", a.path, "--listen", "127.0.0.1:0", "--admit", b.identity, "--reattestation-interval-ms", "200", "--status-interval-ms", "200",
        ])
        defer { nodeA.stop() }
        let address = try #require(await nodeA.waitFor { $0["event"] as? String == "listening" }?["listen"] as? String)
        let nodeB = try RunningNode(arguments: [
            "run", "--data-dir", b.path, "--listen", "127.0.0.1:0", "--admit", a.identity, "--peer", address,
            "--reattestation-interval-ms", "200",
        ])
        defer { nodeB.stop() }
        #expect(await nodeB.waitFor { $0["event"] as? String == "connected" && $0["identity"] as? String == a.identity } != nil)
        // Each side challenges the other with fresh nonces; count passed challenges, then check nobody was evicted.
        let passed = await nodeA.waitFor { ($0["reattestations"] as? Int ?? 0) >= 5 }
        #expect(passed != nil, "A re-attested B over the live channel several times")
        #expect(nodeA.lines.allSatisfy { $0["event"] as? String != "evicted" && $0["event"] as? String != "disconnected" })
        #expect(nodeB.lines.allSatisfy { $0["event"] as? String != "evicted" && $0["event"] as? String != "disconnected" })
    }
}

/// A `darknode run` process whose JSON event lines are collected as they arrive.
final class RunningNode: Sendable {
    let process = Process()
    let output: JSONLines

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: NodeProcessTests.darknode)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        output = JSONLines(pipe.fileHandleForReading)
    }

    var lines: [[String: Any]] { output.all }

    func waitFor(_ condition: @escaping ([String: Any]) -> Bool) async -> [String: Any]? {
        await output.waitFor(after: 0, condition)
    }

    /// SIGTERM, and SIGKILL if it has not exited within 10 s (a `defer` cannot wait asynchronously).
    func stop() {
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        ChildProcess.killNow(process)
    }
}
