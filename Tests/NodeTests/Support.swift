import Bitcoin
import Consensus
import Crypto
import Enclave
import Foundation
import MeshTestKit
import NIOPosix
import Network
import Secp256k1
import Shard
import MPC
import Testing

@testable import Node

/// A shard of in-process nodes on loopback meshes (the unattested test handshake: EKEP and attestation are covered
/// by the Network tests and the localnet process tests), each with its own sealed store in a temporary directory.
final class TestShard: @unchecked Sendable {
    let keys: [PrivateKey]
    let genesis: ShardGenesis
    let directory: URL
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    var meshes: [Mesh?]
    var runtimes: [NodeRuntime?]
    var pumps: [Task<Void, Never>?]
    let configuration: NodeConfiguration
    let sealingKey = SymmetricKey(size: .bits256)

    init(nodes: Int, configuration: NodeConfiguration = TestShard.fastConfiguration) throws {
        // Fresh identities per shard: suites run in parallel in one process, and no two shards may share a member.
        let seed = UUID().uuidString
        keys = (0..<nodes).map { i in try! PrivateKey(bytes: Array(SHA256.hash(data: Array("node-tests/\(seed)/\(i)".utf8)))) }
        let recovery = try RecoveryPolicy(threshold: 1, keys: [PrivateKey.generate().publicKey])
        genesis = try ShardGenesis(chainID: "node-tests", committee: keys.map(\.publicKey), threshold: (nodes - 1) / 3,
                                   bitcoinNetwork: .regtest, checkpoint: RegtestMiner.genesisCheckpoint, confirmationsRequired: 2,
                                   recovery: recovery, selectors: ["BTC/toEthereum"])
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("node-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        meshes = Array(repeating: nil, count: nodes)
        runtimes = Array(repeating: nil, count: nodes)
        pumps = Array(repeating: nil, count: nodes)
        self.configuration = configuration
    }

    /// Short timeouts so a stopped proposer costs little; MPC round timers long enough that a loaded CI machine
    /// (the whole suite in parallel on two cores) does not close rounds before honest members' messages are in.
    static var fastConfiguration: NodeConfiguration {
        var c = NodeConfiguration()
        c.timeouts = TimeoutPolicy(proposeBase: .milliseconds(1_000), prevoteBase: .milliseconds(500), precommitBase: .milliseconds(500),
                                   delta: .milliseconds(250))
        c.idleBlockInterval = .milliseconds(50)
        c.tickInterval = .milliseconds(300)
        c.mpc.timing = SessionTiming(roundTimeout: .seconds(20), sessionTimeout: .seconds(1_800))
        return c
    }

    func storePath(_ i: Int) -> String { directory.appendingPathComponent("node-\(i).sqlite").path }

    /// Starts node `i` (creating its store the first time, reopening it after a stop) and dials every running peer.
    func start(_ i: Int) async throws {
        let path = storePath(i)
        let store = FileManager.default.fileExists(atPath: path)
            ? try SealedStore.open(path: path, sealingKey: sealingKey) : try SealedStore.create(path: path, sealingKey: sealingKey)
        var config = MeshConfiguration(identity: keys[i], authenticator: UnattestedTestAuthenticator(identity: keys[i], enabledForTesting: true),
                                       admitted: Set(keys.enumerated().filter { $0.offset != i }.map { PeerID($0.element.publicKey) }))
        config.port = 0
        let mesh = Mesh(configuration: config, group: group)
        _ = try await mesh.start()
        let runtime = try NodeRuntime(identity: keys[i], genesis: genesis, mesh: mesh, store: NodeStore(store: store), configuration: configuration)
        meshes[i] = mesh
        runtimes[i] = runtime
        pumps[i] = Task { for await e in mesh.events { await runtime.handle(e) } }
        // MPC progress and halts go to the test log, so a run that times out says where it stood.
        Task {
            for await e in runtime.events {
                switch e {
                case .mpc(let line): print("node-tests node \(i): mpc: \(line)")
                case .fatal(let reason): print("node-tests node \(i): FATAL: \(reason)")
                default: break
                }
            }
        }
        await runtime.start()
        for j in meshes.indices where j != i {
            if let other = meshes[j] { _ = try? await mesh.connect(host: "127.0.0.1", port: other.listenPort) }
        }
    }

    func startAll() async throws {
        for i in keys.indices { try await start(i) }
    }

    /// Stops node `i` as a crash would leave it: no goodbye, its store closed where it stood.
    func stop(_ i: Int) async {
        await runtimes[i]?.stop()
        await meshes[i]?.stop()
        pumps[i]?.cancel()
        if let runtime = runtimes[i] { try? runtime.store.store.close() }
        runtimes[i] = nil
        meshes[i] = nil
    }

    func stopAll() async {
        for i in keys.indices { await stop(i) }
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(at: directory)
    }

    func heights() async -> [UInt64] {
        var out: [UInt64] = []
        for r in runtimes { out.append(await r?.height ?? 0) }
        return out
    }

    var running: [NodeRuntime] { runtimes.compactMap { $0 } }
}
