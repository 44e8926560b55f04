import Bitcoin
import Consensus
import Crypto
import Enclave
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import Network
import Node
import Secp256k1
import SecureChannel
import Shard

/// The node under load on loopback: n in-process nodes (EKEP with simulated attestation, sealed stores in a
/// temporary directory, all in this one process on this machine's cores). Measures, in wall time:
/// - presignature generation (the committee fills its pool from empty): presignatures/s, which bounds the
///   sustained signing rate;
/// - a burst of R mint requests submitted at once with a warm pool: requests committed/s, signatures/s, and each
///   request's latency from submit to its signature being committed (p50/p99).
func benchNode(_ h: inout Harness) {
    print("== node (loopback, in-process nodes, EKEP + simulated attestation, sealed stores) ==")
    let quick = ProcessInfo.processInfo.environment["BENCH_QUICK"] != nil
    for n in [4, 7] {
        let r = runNodeBench(nodes: n, requests: quick ? 64 : 512)
        print(r)
        fflush(nil)
    }
}

func runNodeBench(nodes n: Int, requests: Int) -> String {
    let semaphore = DispatchSemaphore(value: 0)
    let box = NIOLockedValueBox<String>("")
    Task.detached {
        do { let s = try await nodeBench(nodes: n, requests: requests); box.withLockedValue { $0 = s } }
        catch { box.withLockedValue { $0 = "n=\(n): failed: \(error)" } }
        semaphore.signal()
    }
    semaphore.wait()
    return box.withLockedValue { $0 }
}

private func nodeBench(nodes n: Int, requests: Int) async throws -> String {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let keys = (0..<n).map { _ in PrivateKey.generate() }
    let recovery = try RecoveryPolicy(threshold: 1, keys: [PrivateKey.generate().publicKey])
    let genesis = try ShardGenesis(chainID: "bench", committee: keys.map(\.publicKey), threshold: (n - 1) / 3, bitcoinNetwork: .regtest,
                                   checkpoint: RegtestMiner.genesisCheckpoint, confirmationsRequired: 1, recovery: recovery,
                                   selectors: ["BTC/toEthereum"])
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("node-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var configuration = NodeConfiguration()
    configuration.idleBlockInterval = .milliseconds(20)
    configuration.timeouts = TimeoutPolicy(proposeBase: .seconds(2), prevoteBase: .seconds(1), precommitBase: .seconds(1), delta: .milliseconds(500))
    configuration.mpc.presignBatch = 64
    configuration.mpc.presignaturePoolTarget = requests
    configuration.mpc.presignInterval = 1
    configuration.mpc.presignSessionsMax = 4
    let measurement = [UInt8](repeating: 0x42, count: 32)
    let policy = MeasurementAllowListPolicy(allowedMeasurements: [measurement], allowSimulation: true)
    var meshes: [Mesh] = []
    var runtimes: [NodeRuntime] = []
    for (i, key) in keys.enumerated() {
        let store = try SealedStore.create(path: directory.appendingPathComponent("\(i).sqlite").path, sealingKey: SymmetricKey(size: .bits256))
        var config = MeshConfiguration(
            identity: key,
            authenticator: try EKEPAuthenticator.simulated(identity: key, measurement: measurement, platformKey: PrivateKey.generate(), policy: policy),
            admitted: Set(keys.map { PeerID($0.publicKey) }))
        config.logger.logLevel = .error
        config.limits.messagesPerSecondPerPeer = 1e7
        config.limits.messageBurstPerPeer = 1e7
        let mesh = Mesh(configuration: config, group: group)
        _ = try await mesh.start()
        let runtime = try NodeRuntime(identity: key, genesis: genesis, mesh: mesh, store: NodeStore(store: store), configuration: configuration)
        meshes.append(mesh)
        runtimes.append(runtime)
        Task { for await e in mesh.events { await runtime.handle(e) } }
    }
    // Node 0's shard events, and per decided block its transaction count (for blocks/s and transactions per block).
    let (events, sink) = AsyncStream.makeStream(of: (Date, ShardEvent).self)
    let blocks = NIOLockedValueBox<[(Date, Int)]>([])
    let first = runtimes[0]
    Task {
        for await e in first.events {
            if case .decided(_, _, let transactions, let shardEvents, _) = e {
                blocks.withLockedValue { $0.append((Date(), transactions)) }
                for s in shardEvents { sink.yield((Date(), s)) }
            }
        }
    }
    for r in runtimes { await r.start() }
    for i in 0..<n { for j in (i + 1)..<n { _ = try? await meshes[i].connect(host: "127.0.0.1", port: meshes[j].listenPort) } }

    // Key generation, then the pool filling from empty.
    let t0 = Date()
    var keyAt: Date?
    var poolFull: Date?
    var iterator = events.makeAsyncIterator()
    var shardKey: PublicKey?
    var pool = 0
    while poolFull == nil, Date().timeIntervalSince(t0) < 900, let (at, e) = await iterator.next() {
        switch e {
        case .shardKeyRegistered(let k): shardKey = k; keyAt = at
        case .presignaturesAdded(let c):
            pool += c
            if pool >= requests { poolFull = at }
        default: break
        }
    }
    guard let shardKey, let keyAt, let poolFull else { return "n=\(n): no key or pool within 900 s" }
    let presignRate = Double(pool) / poolFull.timeIntervalSince(keyAt)

    // A burst of mints with a warm pool.
    var miner = RegtestMiner()
    var mints: [MintRequest] = []
    var deposits: [Transaction] = []
    var parameters: [([UInt8], [UInt8], [UInt8])] = []
    let sHash = RenVMHashes.sHash(selector: "BTC/toEthereum")
    for i in 0..<requests {
        let nonce = Array(SHA256.hash(data: Array("bench nonce \(i)".utf8)))
        let pHash = RenVMHashes.pHash(payload: [])
        let to = Array(PrivateKey.generate().publicKey.evmAddress)
        let gHash = try RenVMHashes.gHash(pHash: pHash, sHash: sHash, to: to, nonce: nonce)
        let script = try GatewayScript(gHash: gHash, shardKey: shardKey, recovery: recovery).scriptPubKey
        deposits.append(Transaction(inputs: [TxInput(previousOutput: OutPoint(txid: Array(SHA256.hash(data: nonce)), index: 0), witness: [[1]])],
                                    outputs: [TxOutput(value: 10_000 + UInt64(i), scriptPubKey: script)]))
        parameters.append((pHash, to, nonce))
    }
    let block = miner.mine(deposits)
    _ = try await runtimes[0].submit(.bitcoinHeaders([block.header]))
    for r in runtimes { while await r.state.bitcoinTip.height < 1 { try await Task.sleep(for: .milliseconds(5)) } }
    for (i, d) in deposits.enumerated() {
        let proof = block.inclusionProof(txid: d.txid)!
        mints.append(try MintRequest(depositTransaction: d.serialized(), outputIndex: 0, transactionIndex: proof.index,
                                     transactionCount: UInt32(proof.transactionCount), siblings: proof.siblings, blockHash: block.header.hash,
                                     pHash: parameters[i].0, sHash: sHash, to: parameters[i].1, nonce: parameters[i].2))
    }
    var submitted: [[UInt8]: Date] = [:]
    let burst = Date()
    for (i, m) in mints.enumerated() {
        submitted[try m.nHash()] = Date()
        _ = try await runtimes[i % n].submit(.mint(m))
    }
    let submitSeconds = Date().timeIntervalSince(burst)
    var committed = 0, signed = 0
    var lastCommit = burst, lastSignature = burst
    var latencies: [Double] = []
    while signed < requests, Date().timeIntervalSince(burst) < 600, let (at, e) = await iterator.next() {
        switch e {
        case .mintAccepted(let nHash, _) where submitted[nHash] != nil:
            committed += 1
            lastCommit = at
        case .signed(let id):
            if let s = submitted[id] {
                signed += 1
                lastSignature = at
                latencies.append(at.timeIntervalSince(s))
            }
        default: break
        }
    }
    for r in runtimes { await r.stop() }
    for m in meshes { await m.stop() }
    try? await group.shutdownGracefully()
    latencies.sort()
    let burstBlocks = blocks.withLockedValue { $0.filter { $0.0 >= burst && $0.0 <= lastSignature } }
    let burstSeconds = max(lastSignature.timeIntervalSince(burst), 1e-3)
    let blockLine = String(format: " | submitting took %.2f s; %d blocks in the burst (%.0f blocks/s, %.1f transactions/block)", submitSeconds,
                           burstBlocks.count, Double(burstBlocks.count) / burstSeconds,
                           burstBlocks.isEmpty ? 0 : Double(burstBlocks.map(\.1).reduce(0, +)) / Double(burstBlocks.count))
    func pct(_ p: Double) -> String { latencies.isEmpty ? "-" : String(format: "%.0f ms", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000) }
    return String(format: "n=%d t=%d: key generation %.2f s | presignatures/s (pool from empty, committee wall) %.0f | burst of %d mints, warm pool: committed/s %.0f, signatures/s %.0f (%d signed), latency submit→signature committed p50 %@ p99 %@",
                  n, (n - 1) / 3, keyAt.timeIntervalSince(t0), presignRate, requests, Double(committed) / max(lastCommit.timeIntervalSince(burst), 1e-3),
                  Double(signed) / max(lastSignature.timeIntervalSince(burst), 1e-3), signed, pct(0.5) as NSString, pct(0.99) as NSString) + blockLine
}
