import Foundation
import Testing

/// A real partition between two hosts: each node runs in its own network namespace, joined by a veth pair,
/// and iptables drops the traffic between them for a while. Needs root (namespaces, iptables); skipped
/// elsewhere. Addresses are in the namespaces this test creates, never on any outside network.
@Suite struct PartitionTests {
    static func sh(_ command: String) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static var privileged: Bool {
        getuid() == 0 && sh("command -v iptables && command -v ip").status == 0
    }

    @Test(.enabled(if: PartitionTests.privileged, "needs root, ip and iptables"))
    func aPartitionMadeWithNamespacesAndIptablesHealsAndTrafficResumes() async throws {
        let tag = String(getpid() % 100_000)
        let nsA = "dna\(tag)", nsB = "dnb\(tag)"
        let ipA = "10.231.77.1", ipB = "10.231.77.2"
        defer {
            _ = Self.sh("ip netns del \(nsA); ip netns del \(nsB)")
        }
        let setup = [
            "ip netns add \(nsA)", "ip netns add \(nsB)",
            "ip link add va\(tag) type veth peer name vb\(tag)",
            "ip link set va\(tag) netns \(nsA)", "ip link set vb\(tag) netns \(nsB)",
            "ip -n \(nsA) addr add \(ipA)/24 dev va\(tag)", "ip -n \(nsB) addr add \(ipB)/24 dev vb\(tag)",
            "ip -n \(nsA) link set va\(tag) up", "ip -n \(nsB) link set vb\(tag) up",
            "ip -n \(nsA) link set lo up", "ip -n \(nsB) link set lo up",
        ]
        for command in setup {
            let result = Self.sh(command)
            try #require(result.status == 0, "\(command): \(result.output)")
        }
        let darknode = MultiProcessTests.darknode.path
        func node(_ ns: String, _ host: String, _ peer: String, _ seed: Int) throws -> (Process, Pipe) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = [
                "netns", "exec", ns, darknode, "net", "soak", "--host", host, "--port", "7400", "--peers", "\(peer):7400",
                "--seed", "\(seed)", "--seeds", "1,2", "--duration-seconds", "16", "--liveness-milliseconds", "400",
                "--unattested-test-handshake",
            ]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            return (process, pipe)
        }
        let (a, aOut) = try node(nsA, ipA, ipB, 1)
        let (b, _) = try node(nsB, ipB, ipA, 2)
        // Connected and exchanging by t = 3 s; partition from 4 s to 9 s; healed by the end.
        try await Task.sleep(nanoseconds: 4_000_000_000)
        let cut = Self.sh(
            "ip netns exec \(nsA) iptables -A INPUT -s \(ipB) -j DROP && ip netns exec \(nsA) iptables -A OUTPUT -d \(ipB) -j DROP")
        try #require(cut.status == 0, "iptables: \(cut.output)")
        try await Task.sleep(nanoseconds: 5_000_000_000)
        #expect(Self.sh("ip netns exec \(nsA) iptables -F").status == 0)
        let data = aOut.fileHandleForReading.readDataToEndOfFile()
        a.waitUntilExit()
        b.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        func sample(at t: Double) -> (received: Int, connected: Int)? {
            guard let line = lines.last(where: { ($0["t"] as? Double ?? 0) <= t }) else { return nil }
            return (line["received"] as? Int ?? 0, line["connected"] as? Int ?? 0)
        }
        let before = try #require(sample(at: 3.9))
        let lateInPartition = try #require(sample(at: 8.8))
        let earlyInPartition = try #require(sample(at: 6.5))
        let end = try #require(sample(at: 16))
        #expect(before.connected == 1 && before.received > 50, "exchanging before the partition")
        #expect(lateInPartition.connected == 0, "the partition is noticed (liveness)")
        #expect(lateInPartition.received == earlyInPartition.received, "no traffic crosses the partition")
        #expect(end.connected == 1, "reconnected after the partition healed")
        #expect(end.received > lateInPartition.received + 50, "traffic resumed")
    }
}
