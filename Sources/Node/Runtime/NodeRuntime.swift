import Consensus
import Enclave
import Logging
import MPC
import Network
import Secp256k1
import Shard

/// Mesh topics the node speaks.
public enum NodeTopic {
    /// Consensus packets (signed proposals and votes, commit certificates).
    public static let consensus = "darknode/consensus/v1"
    /// A transaction submitted to one node, passed to every member so that any proposer can include it.
    public static let transaction = "darknode/tx/v1"
    /// `from u64`: asks for commit certificates from that height on.
    public static let syncRequest = "darknode/sync-request/v1"
    /// `count u16 ‖ (length u32 ‖ certificate)…`.
    public static let syncAnswer = "darknode/sync-answer/v1"
    /// A signature share (MPC wire format) for every member to combine.
    public static let signatureShare = "darknode/mpc-share/v1"
    /// Empty: "which is the highest consensus message you saw me sign?" (the rollback check at start).
    public static let signedHeightRequest = "darknode/signed-height-request/v1"
    /// Empty (none seen) or that message's wire bytes; it proves itself by the asker's own signature.
    public static let signedHeightAnswer = "darknode/signed-height-answer/v1"
}

/// What the node reports as it runs (the CLI prints these as JSON lines).
public enum NodeEvent: Sendable {
    /// Consensus waits for this many members to say what they saw this node sign (the rollback check).
    case awaitingSignedHeights(required: Int)
    case started(height: UInt64, restoredWALEntries: Int)
    case decided(height: UInt64, round: UInt32, transactions: Int, events: [ShardEvent], synced: Bool)
    case syncRequested(from: UInt64, peer: PeerID)
    /// Progress of key generation, presigning and signing.
    case mpc(String)
    case fatal(String)
}

/// One node of a shard: owns the consensus replica (with the shard application), its sealed store and the mesh it
/// talks over. Inputs arrive as calls (mesh events, timer firings, submissions); every input runs the pure
/// replica and then carries out its effects in order: WAL entries are sealed to disk before any message that
/// follows them leaves, and a decided block is made durable (certificate, state, WAL cleanup in one batch) before
/// anything after it.
public actor NodeRuntime {
    public let identity: PublicKey
    public let genesis: ShardGenesis
    public nonisolated let events: AsyncStream<NodeEvent>
    let validators: ValidatorSet
    let mesh: Mesh
    public nonisolated let store: NodeStore
    let configuration: NodeConfiguration
    let logger: Logger
    private var replica: Replica<ShardApplication>
    private let eventSink: AsyncStream<NodeEvent>.Continuation
    private var timers: [Timeout: Task<Void, Never>] = [:]
    private var ticker: Task<Void, Never>?
    /// Sends held after an idle block (see `NodeConfiguration.idleBlockInterval`); nil when not holding.
    private var held: [ReplicaEffect]?
    private var lastSyncRequest: ContinuousClock.Instant?
    private var syncing = false
    private var stopped = false
    private var restoredWAL = 0
    public private(set) var rejectedPackets = 0
    private var mpc: MPCDriver
    /// Per member, the highest consensus message seen signed by it (answered to that member when it restarts).
    private var signedMemory: SignedMessageMemory
    /// Members whose answer passed the rollback check; consensus starts once there are `witnessesRequired`.
    private var witnesses: Set<PeerID> = []
    private let witnessesRequired: Int
    private let members: Set<PeerID>
    private var consensusStarted = false
    private var witnessRequests: Task<Void, Never>?
    /// Set when a peer proved the store rolled back; the node never signs again in this run.
    public private(set) var rollback: StoreRolledBack?

    public init(identity: PrivateKey, genesis: ShardGenesis, mesh: Mesh, store: NodeStore,
                configuration: NodeConfiguration = NodeConfiguration(), logger: Logger = Logger(label: "darknode.node")) throws {
        self.identity = identity.publicKey
        self.genesis = genesis
        self.mesh = mesh
        self.store = store
        self.configuration = configuration
        self.logger = logger
        validators = try genesis.validatorSet()
        signedMemory = SignedMessageMemory(committee: genesis.committee)
        members = Set(genesis.committee.filter { $0 != identity.publicKey }.map { PeerID($0) })
        witnessesRequired = min(configuration.signedHeightWitnesses ?? genesis.threshold + 1, members.count)
        let state = try store.loadState(genesis: genesis)
        let height = state.height + 1
        let wal = try store.walEntries(height: height)
        restoredWAL = wal.count
        let app = ShardApplication(state: state, mempool: Mempool(limits: configuration.mempool))
        let processConfiguration = ConsensusProcess<ShardApplication>.Configuration(timeouts: configuration.timeouts)
        let signer = Secp256k1Signer(privateKey: identity)
        let process = wal.isEmpty
            ? ConsensusProcess(height: height, validators: validators, signer: signer, app: app, configuration: processConfiguration)
            : ConsensusProcess(restoringHeight: height, from: wal, validators: validators, signer: signer, app: app, configuration: processConfiguration)
        var recent: [CommitCertificate] = []
        var h = state.height
        while h >= 1, recent.count < Consensus.Limits.certificateHistoryMax, let c = try store.certificate(height: h) {
            recent.insert(c, at: 0)
            h -= 1
        }
        replica = Replica(process: process, verifier: CachingVerifier(entriesMax: configuration.verifierCacheEntries), certificates: recent)
        (events, eventSink) = AsyncStream.makeStream(of: NodeEvent.self, bufferingPolicy: .bufferingNewest(4_096))
        let keyShare = try store.loadKeyShare().map { try KeyShare(sealedEncoding: $0) }
        mpc = try MPCDriver(genesis: genesis, signingKey: identity, keyShare: keyShare, settings: configuration.mpc)
        if let keyShare { replica.withApplication { $0.localCheck = Self.shardKeyCheck(keyShare.publicData.publicKey.asPublicKey) } }
        else { replica.withApplication { $0.localCheck = Self.shardKeyCheck(nil) } }
    }

    /// A shard-key registration is valid here only if it names the key this member's key generation produced.
    static func shardKeyCheck(_ key: PublicKey?) -> @Sendable (ShardTransaction, ShardState) -> Bool {
        { tx, _ in
            guard case .shardKey(let registration) = tx else { return true }
            return registration.key == key
        }
    }

    // MARK: Queries

    public var state: ShardState { replica.process.app.state }
    public var height: UInt64 { replica.height }
    public var mempoolCount: Int { replica.process.app.mempool.count }
    /// Presignatures this member holds its half of (restored from the store or made since the start).
    public var heldPresignatures: Int { mpc.heldPresignatures }

    // MARK: Lifecycle

    /// Starts the node: first the rollback check (members say which is the highest message they saw this node sign;
    /// `StoreRolledBack`), then consensus.
    public func start() {
        guard witnessesRequired > 0 else { return startConsensus() }
        eventSink.yield(.awaitingSignedHeights(required: witnessesRequired))
        let interval = configuration.signedHeightRequestInterval
        witnessRequests = Task { [weak self] in
            while !Task.isCancelled {
                guard await self?.requestSignedHeights() == true else { return }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Asks every connected member that has not answered; false once the question is settled.
    private func requestSignedHeights() -> Bool {
        guard !stopped, !consensusStarted else { return false }
        for peer in mesh.connectedPeers.map(\.identity) where members.contains(peer) && !witnesses.contains(peer) {
            try? mesh.send([], topic: NodeTopic.signedHeightRequest, to: peer)
        }
        return true
    }

    /// Resumes the restored height (re-sending what the WAL says it signed) and starts the tick.
    private func startConsensus() {
        guard !consensusStarted, !stopped else { return }
        consensusStarted = true
        witnessRequests?.cancel()
        eventSink.yield(.started(height: replica.height, restoredWALEntries: restoredWAL))
        perform(replica.start())
        do {
            carryOut(mpc.restore(presignatures: try store.loadPresignatures(), state: state))
        } catch {
            eventSink.yield(.mpc("sealed presignatures unreadable: \(error)"))
        }
        if state.shardKey == nil, state.height == 0, mpc.keyShare == nil {
            do { carryOut(try mpc.startKeyGeneration()) } catch { eventSink.yield(.mpc("key generation could not start: \(error)")) }
        }
        let interval = configuration.tickInterval
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await self?.tick()
            }
        }
    }

    /// A member's answer: nothing seen, or a message this node signed. A message that is not this node's is no
    /// answer; one the store does not account for stops the node, before or after consensus started.
    private func receiveSignedHeight(_ payload: [UInt8], from peer: PeerID) {
        guard members.contains(peer) else { return }
        if !payload.isEmpty {
            guard let proof = try? SignedMessage.decode(payload[...]), proof.signer.compressed == identity.compressed,
                  proof.isSignedBy(identity) else { return }
            let logged: [SignedMessage]
            do { logged = try store.loggedSignedMessages() } catch {
                halt("reading the write-ahead log for the rollback check: \(error)")
                return
            }
            if let refusal = StoreRolledBack.check(proof: proof, decidedHeight: state.height, logged: logged, witness: peer.bytes) {
                rollback = refusal
                halt(refusal.description)
                return
            }
        }
        witnesses.insert(peer)
        if witnesses.count >= witnessesRequired { startConsensus() }
    }

    public func stop() {
        stopped = true
        ticker?.cancel()
        witnessRequests?.cancel()
        for t in timers.values { t.cancel() }
        timers = [:]
        eventSink.finish()
    }

    // MARK: Inputs

    /// Feeds one mesh event to the node.
    public func handle(_ event: MeshEvent) {
        guard !stopped else { return }
        switch event {
        case .message(let m):
            switch m.topic {
            case NodeTopic.consensus: receiveConsensus(m.payload, from: m.from)
            case NodeTopic.transaction: _ = try? admit(m.payload)
            case NodeTopic.syncRequest: answerSync(m.payload, to: m.from)
            case NodeTopic.syncAnswer: receiveSync(m.payload, from: m.from)
            case NodeTopic.signatureShare: carryOut(mpc.receiveShare(m.payload))
            case NodeTopic.signedHeightRequest:
                if m.payload.isEmpty { try? mesh.send(signedMemory.answer(for: m.from.bytes), topic: NodeTopic.signedHeightAnswer, to: m.from) }
            case NodeTopic.signedHeightAnswer: receiveSignedHeight(m.payload, from: m.from)
            default: break
            }
        case .connected(let peer):
            if !consensusStarted, members.contains(peer.identity) {
                try? mesh.send([], topic: NodeTopic.signedHeightRequest, to: peer.identity)
            }
            // A peer that (re)connects may be ahead of us (we restarted): ask it for what we missed.
            requestSync(from: peer.identity)
        default:
            break
        }
    }

    /// A transaction from a client: checked against the state, queued, and passed to every peer. Returns its id.
    public func submit(_ transaction: ShardTransaction) throws(MempoolError) -> [UInt8] {
        let id = try admitTransaction(transaction)
        try? mesh.broadcast(transaction.encoded, topic: NodeTopic.transaction)
        return id
    }

    private func admit(_ bytes: [UInt8]) throws -> [UInt8] {
        try admitTransaction(try ShardTransaction(decoding: bytes))
    }

    private func admitTransaction(_ transaction: ShardTransaction) throws(MempoolError) -> [UInt8] {
        if replica.process.app.mempool.contains(transaction.id) { throw .duplicate }
        var scratch = state
        do { _ = try scratch.applyCandidate(transaction) } catch { throw .invalid(error) }
        return try replica.withApplication { app throws(MempoolError) in try app.mempool.add(transaction) }
    }

    private func receiveConsensus(_ packet: [UInt8], from peer: PeerID) {
        // A packet more than a few heights ahead means we missed blocks: fetch certificates instead of waiting.
        if packet.count >= 10 {
            let claimed = packet[2..<10].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if claimed > replica.height + 1 { requestSync(from: peer) }
        }
        signedMemory.observe(packet)
        guard consensusStarted else { return }
        perform(replica.receive(packet))
    }

    private func fire(_ timeout: Timeout) {
        timers[timeout] = nil
        guard !stopped else { return }
        perform(replica.timeout(timeout))
    }

    private func tick() {
        guard !stopped else { return }
        perform(replica.tick())
        carryOut(mpc.tick())
    }

    /// Carries out what the MPC driver asked for, secrets to disk first: the key share and new presignatures sealed
    /// and used presignatures deleted, then transactions into the mempool (and to every peer), shares to every peer.
    private func carryOut(_ output: MPCOutput) {
        if let share = output.keyShareToSeal {
            do { try store.saveKeyShare(share.sealedEncoding) } catch { halt("sealing the key share: \(error)"); return }
            let key = share.publicData.publicKey.asPublicKey
            replica.withApplication { $0.localCheck = Self.shardKeyCheck(key) }
        }
        do {
            try store.savePresignatures(output.presignaturesToSeal)
            try store.deletePresignatures(output.presignaturesToDelete)
        } catch {
            halt("sealing presignatures: \(error)")
            return
        }
        for tx in output.transactions {
            if (try? admitTransaction(tx)) != nil { try? mesh.broadcast(tx.encoded, topic: NodeTopic.transaction) }
        }
        for share in output.shares { try? mesh.broadcast(share, topic: NodeTopic.signatureShare) }
        for line in output.log { eventSink.yield(.mpc(line)) }
    }

    // MARK: Effects

    private func perform(_ effects: [ReplicaEffect]) {
        var wal: [WALEntry] = []
        for effect in effects {
            if case .persist(let entry) = effect {
                wal.append(entry)
                continue
            }
            // Everything logged so far is durable before this effect is carried out.
            guard flush(&wal) else { return }
            switch effect {
            case .persist: break
            case .commit:
                persistDecided()
            case .evidence(let m):
                _ = try? submit(.misbehaviour(m))
            case .rejected:
                rejectedPackets += 1
            case .broadcast, .send, .schedule:
                if held != nil { held?.append(effect) } else { send(effect) }
            }
        }
        _ = flush(&wal)
    }

    private func flush(_ wal: inout [WALEntry]) -> Bool {
        guard !wal.isEmpty else { return true }
        do {
            try store.appendWAL(wal)
            wal = []
            return true
        } catch {
            halt("write-ahead log: \(error)")
            return false
        }
    }

    private func send(_ effect: ReplicaEffect) {
        switch effect {
        case .broadcast(let bytes):
            try? mesh.broadcast(bytes, topic: NodeTopic.consensus)
        case .send(let bytes, let key):
            if let peer = PeerID(bytes: key.compressed) { try? mesh.send(bytes, topic: NodeTopic.consensus, to: peer) }
        case .schedule(let timeout, let delay):
            guard timers[timeout] == nil else { return }
            timers[timeout] = Task { [weak self] in
                try? await Task.sleep(for: delay)
                guard !Task.isCancelled else { return }
                await self?.fire(timeout)
            }
        default:
            break
        }
    }

    private func persistDecided() {
        let decided = replica.withApplication { $0.drainDecided() }
        if let fatal = replica.process.app.fatal {
            halt(fatal)
            return
        }
        guard let last = decided.last else { return }
        do {
            try store.recordDecided(decided.map(\.certificate), state: state)
        } catch {
            halt("recording height \(last.certificate.height): \(error)")
            return
        }
        for d in decided {
            eventSink.yield(.decided(height: d.certificate.height, round: d.certificate.round, transactions: d.block.transactions.count,
                                     events: d.events, synced: syncing))
        }
        let current = state
        for d in decided {
            carryOut(mpc.decided(d.events, height: d.certificate.height, state: current))
            let signed = Set(d.events.compactMap { if case .signed(let id) = $0 { return id } else { return nil } })
            if !signed.isEmpty { mpc.forgetSigned(signed) }
        }
        // An idle shard: hold what follows (our next proposal, our timers) for the idle interval.
        if held == nil, last.block.transactions.isEmpty, replica.process.app.mempool.count == 0, configuration.idleBlockInterval > .zero {
            held = []
            let interval = configuration.idleBlockInterval
            Task { [weak self] in
                try? await Task.sleep(for: interval)
                await self?.release()
            }
        }
    }

    private func release() {
        guard let effects = held else { return }
        held = nil
        for e in effects { send(e) }
    }

    private func halt(_ reason: String) {
        logger.critical("node halted", metadata: ["reason": .string(reason)])
        eventSink.yield(.fatal(reason))
        stop()
    }

    // MARK: Catch-up

    private func requestSync(from peer: PeerID) {
        let now = ContinuousClock.now
        if let last = lastSyncRequest, now - last < configuration.syncRequestInterval { return }
        lastSyncRequest = now
        try? mesh.send(NodeStore.heightKey(replica.height), topic: NodeTopic.syncRequest, to: peer)
        eventSink.yield(.syncRequested(from: replica.height, peer: peer))
    }

    private func answerSync(_ payload: [UInt8], to peer: PeerID) {
        guard payload.count == 8 else { return }
        let from = payload.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard from >= 1, from < replica.height else { return }
        var certificates: [[UInt8]] = []
        var bytes = 2
        var h = from
        while h < replica.height, certificates.count < configuration.syncBatch {
            guard let c = try? store.certificate(height: h) else { break }
            let encoded = c.encoded
            guard bytes + 4 + encoded.count <= configuration.syncAnswerBytesMax || certificates.isEmpty else { break }
            certificates.append(encoded)
            bytes += 4 + encoded.count
            h += 1
        }
        guard !certificates.isEmpty else { return }
        var out: [UInt8] = [UInt8(certificates.count >> 8), UInt8(certificates.count & 0xFF)]
        for c in certificates { out += NodeStore.u32(UInt32(c.count)) + c }
        try? mesh.send(out, topic: NodeTopic.syncAnswer, to: peer)
    }

    /// Certificates are checked by the replica (quorum of the validator set, value valid under the rules) and
    /// applied in height order; anything else in the answer is ignored.
    private func receiveSync(_ payload: [UInt8], from peer: PeerID) {
        // Certificates move the replica to new heights where it signs: not before the rollback check passed.
        guard consensusStarted, payload.count >= 2 else { return }
        let count = Int(payload[0]) << 8 | Int(payload[1])
        var offset = 2
        syncing = true
        defer { syncing = false }
        let before = replica.height
        for _ in 0..<min(count, configuration.syncBatch) {
            guard offset + 4 <= payload.count else { break }
            let length = payload[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard length <= Consensus.Limits.certificateBytesMax, offset + length <= payload.count else { break }
            perform(replica.receive(Array(payload[offset..<offset + length])))
            offset += length
            if stopped { return }
        }
        // Still behind after a full batch: ask for the next one.
        if replica.height > before, count == configuration.syncBatch {
            lastSyncRequest = nil
            requestSync(from: peer)
        }
    }
}
