import Foundation
import MeshTestKit
import NIOConcurrencyHelpers
import NIOPosix
import Network
import Secp256k1

/// Records a mesh's events for assertions.
final class EventLog: Sendable {
    let events = NIOLockedValueBox<[MeshEvent]>([])
    let task: Task<Void, Never>

    init(_ mesh: Mesh) {
        let box = events
        task = Task {
            for await event in mesh.events { box.withLockedValue { $0.append(event) } }
        }
    }

    var messages: [InboundMessage] {
        events.withLockedValue { $0.compactMap { if case .message(let m) = $0 { return m } else { return nil } } }
    }

    var refusals: [String] {
        events.withLockedValue { $0.compactMap { if case .refused(_, let reason) = $0 { return reason } else { return nil } } }
    }

    var evictions: [String] {
        events.withLockedValue { $0.compactMap { if case .evicted(_, let reason) = $0 { return reason } else { return nil } } }
    }
}

/// Polls `condition` until it holds. The deadline only keeps a broken run from hanging (CI machines are slow and
/// loaded); it is not a timing assertion.
func eventually(_ seconds: Double = 90, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

struct TestNode {
    let key: PrivateKey
    let mesh: Mesh
    let log: EventLog
    var id: PeerID { mesh.identity }
}

/// Starts `count` meshes on loopback with the unattested test handshake, each admitting all the others.
func startMeshes(
    count: Int, keys: [PrivateKey]? = nil, limits: NetworkLimits = NetworkLimits(), admittedExtra: [PeerID] = [],
    group: MultiThreadedEventLoopGroup, configure: (inout MeshConfiguration, Int) -> Void = { _, _ in }
) async throws -> [TestNode] {
    let keys = keys ?? (0..<count).map { _ in PrivateKey.generate() }
    let ids = Set(keys.map { PeerID($0.publicKey) } + admittedExtra)
    var nodes: [TestNode] = []
    for (i, key) in keys.enumerated() {
        var config = MeshConfiguration(
            identity: key, authenticator: UnattestedTestAuthenticator(identity: key, enabledForTesting: true), admitted: ids)
        config.limits = limits
        configure(&config, i)
        let mesh = Mesh(configuration: config, group: group)
        let log = EventLog(mesh)
        try await mesh.start()
        nodes.append(TestNode(key: key, mesh: mesh, log: log))
    }
    return nodes
}

func connectFullMesh(_ nodes: [TestNode]) async throws {
    for i in nodes.indices {
        for j in nodes.indices where i < j {
            try await nodes[i].mesh.connect(host: "127.0.0.1", port: nodes[j].mesh.listenPort)
        }
    }
    // A dial completes when the dialler has installed the connection; the listener may still be reading the
    // verdict byte. Wait until every node sees every peer, so a broadcast right after reaches everyone.
    _ = await eventually { nodes.allSatisfy { $0.mesh.connectedPeers.count == nodes.count - 1 } }
}

/// Collects the JSON objects a child process prints, one per line, on a reader thread.
final class JSONLines: @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [[String: Any]] = []

    init(_ handle: FileHandle) {
        Thread { [self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 0x0A) {
                    let line = Data(buffer[buffer.startIndex..<newline])
                    buffer = Data(buffer[(newline + 1)...])
                    guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else { continue }
                    lock.lock()
                    objects.append(object)
                    lock.unlock()
                }
            }
        }.start()
    }

    var all: [[String: Any]] {
        lock.lock()
        defer { lock.unlock() }
        return objects
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return objects.count
    }

    /// Waits for a line at index `start` or later that satisfies `condition`. Event-driven: the bound (6,000 polls,
    /// about 60 s on an idle machine) only keeps a broken run from hanging; it is not a timing assertion.
    func waitFor(after start: Int, _ condition: ([String: Any]) -> Bool) async -> [String: Any]? {
        for _ in 0..<6_000 {
            let fresh = all.dropFirst(start)
            if let match = fresh.first(where: condition) { return match }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }
}

/// Three meshes in a line A – B – C that stays a line: A and C admit only B, so neither dials the other even once it
/// learns the other's address (the dial planner connects to every admitted peer it hears of).
func startLineOfThree(group: MultiThreadedEventLoopGroup) async throws -> [TestNode] {
    let keys = (0..<3).map { _ in PrivateKey.generate() }
    let ids = keys.map { PeerID($0.publicKey) }
    let admitted: [Set<PeerID>] = [[ids[1]], [ids[0], ids[2]], [ids[1]]]
    return try await startMeshes(count: 3, keys: keys, group: group) { config, i in config.admitted = admitted[i] }
}
