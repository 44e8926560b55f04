import Consensus
import MPC
import Secp256k1
import Shard

/// A presignature held until consensus assigns it (noncopyable values cannot live in a dictionary directly).
final class PresignatureSlot: @unchecked Sendable {
    var presignature: Presignature?
    init(_ p: consuming Presignature) { presignature = consume p }
    func take() -> Presignature? { presignature.take() }
}

/// What the MPC side of a node asks the runtime to do.
struct MPCOutput {
    /// Transactions for the mempool (MPC broadcasts, the shard key, presignature batches, signatures).
    var transactions: [ShardTransaction] = []
    /// Signature shares for every peer, over the mesh (not consensus: only the combined signature is committed).
    var shares: [[UInt8]] = []
    /// The key share to seal, once key generation finishes.
    var keyShareToSeal: KeyShare?
    /// This member's halves of a finished batch, to seal before the batch's registration leaves the node.
    var presignaturesToSeal: [(id: [UInt8], record: [UInt8])] = []
    /// Presignatures used (or found stale): their sealed records go before any share made from them is sent.
    var presignaturesToDelete: [[UInt8]] = []
    var log: [String] = []

    mutating func merge(_ other: MPCOutput) {
        transactions += other.transactions
        shares += other.shares
        if let k = other.keyShareToSeal { keyShareToSeal = k }
        presignaturesToSeal += other.presignaturesToSeal
        presignaturesToDelete += other.presignaturesToDelete
        log += other.log
    }
}

/// Drives this member's MPC sessions from committed blocks: consensus is the reliable broadcast, so every session
/// sees every broadcast in block order and closes each round at the same block on every honest member. Key
/// generation runs once at genesis; presignature batches start at agreed heights while the pool in the shard state
/// is below its target; signature shares are made only through the shard's signing gate and combined by every
/// member, whose combined signatures are committed as `signatures` transactions.
public struct MPCDriver {
    public struct Settings: Sendable {
        public var presignaturePoolTarget = 64
        public var presignBatch = 16
        /// A presign session may start only at heights divisible by this (all members start the same sessions).
        public var presignInterval: UInt64 = 4
        public var presignSessionsMax = 2
        public var timing = SessionTiming(roundTimeout: .seconds(5), sessionTimeout: .seconds(300))
        public var pendingSharesMax = 4_096
        public init() {}
    }

    let settings: Settings
    let signingKey: PrivateKey
    let committeeIndex: UInt16
    let me: PartyIndex
    let parameters: CommitteeParameters
    let identity: MemberIdentity
    let identities: [Point]
    let epoch: UInt64
    let keygenSession: SessionID
    private(set) var keygen: KeyGenerationSession?
    private(set) var keyShare: KeyShare?
    private var presign: [[UInt8]: PresignSession] = [:]
    private var slots: [[UInt8]: PresignatureSlot] = [:]
    private var publicData: [[UInt8]: PresignaturePublic] = [:]
    private var ledger: PresignatureLedger
    /// Combiners by presignature id, and shares that arrived before their assignment.
    private var combiners: [[UInt8]: (request: [UInt8], combiner: SignatureCombiner)] = [:]
    private var pendingShares: [[UInt8]: [SignatureShare]] = [:]
    private var pendingShareCount = 0
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant

    init(genesis: ShardGenesis, signingKey: PrivateKey, keyShare: KeyShare?, settings: Settings) throws {
        guard let index = genesis.committee.firstIndex(of: signingKey.publicKey) else { throw MPCError.invalidParameters("not a committee member") }
        self.settings = settings
        self.signingKey = signingKey
        committeeIndex = UInt16(index)
        me = index + 1
        parameters = try CommitteeParameters(size: genesis.committee.count, threshold: genesis.threshold)
        identity = try MemberIdentity(secret: signingKey.scalar)
        identities = genesis.committee.map(\.point)
        epoch = genesis.epoch
        keygenSession = SessionID(purpose: "keygen", epoch: genesis.epoch, label: Hex.encode(genesis.hash))
        self.keyShare = keyShare
        ledger = PresignatureLedger(epoch: genesis.epoch)
        started = clock.now
    }

    private var now: Duration { clock.now - started }

    var heldPresignatures: Int { slots.count }

    /// Starts key generation (a node that has no key share and whose shard has no key yet).
    mutating func startKeyGeneration() throws -> MPCOutput {
        guard keyShare == nil, keygen == nil else { return MPCOutput() }
        var session = try KeyGenerationSession(session: keygenSession, parameters: parameters, me: me, identity: identity,
                                               identities: identities, epoch: epoch, timing: settings.timing)
        var out = MPCOutput()
        out.transactions = broadcasts(session.start(now: now))
        out.log.append("key generation started")
        keygen = session
        return out
    }

    /// Takes back this member's sealed presignatures after a restart: those of this epoch that the shard still
    /// holds (or has not registered yet) are kept, used or foreign ones deleted; presignatures assigned before the
    /// restart are signed now (the assignment event was consumed before the stop).
    mutating func restore(presignatures records: [(id: [UInt8], record: [UInt8])], state: ShardState) -> MPCOutput {
        var out = MPCOutput()
        for (id, record) in records {
            guard let p = try? Presignature(sealedEncoding: record), p.id.bytes == id, p.publicData.epoch == epoch,
                  !state.presignatureIsRegistered(id) || state.presignatureIsLive(id) else {
                out.presignaturesToDelete.append(id)
                continue
            }
            publicData[id] = p.publicData
            slots[id] = PresignatureSlot(p)
        }
        if !slots.isEmpty { out.log.append("restored \(slots.count) sealed presignature(s)") }
        for request in state.requestsToSign {
            guard let presignature = request.presignature, slots[presignature] != nil else { continue }
            out.merge(sign(request: request.id, presignature: presignature, state: state))
        }
        return out
    }

    // MARK: Committed blocks

    /// Reacts to a decided block's events, in order, against the state after the block.
    mutating func decided(_ events: [ShardEvent], height: UInt64, state: ShardState) -> MPCOutput {
        var out = MPCOutput()
        for event in events {
            switch event {
            case .mpcBroadcast(let b): deliver(b)
            case .signingAssigned(let request, let presignature): out.merge(sign(request: request, presignature: presignature, state: state))
            case .shardKeyRegistered(let key): out.log.append("shard key registered: \(Hex.encode(key.compressed))")
            default: break
            }
        }
        out.merge(advance())
        out.merge(maybeStartPresigning(height: height, state: state))
        return out
    }

    /// Runs the sessions' clocks (timeout votes) and collects what finished.
    mutating func tick() -> MPCOutput { advance() }

    private mutating func deliver(_ b: MPCBroadcast) {
        guard b.epoch == epoch, let message = try? MPCWire.decode(b.payload), message.sender == Int(b.sender) + 1,
              message.session.bytes == b.session, message.isBroadcast else { return }
        let at = now
        if message.session == keygenSession {
            try? keygen?.handle(message, now: at)
        } else if presign[b.session] != nil {
            try? presign[b.session]?.handle(message, now: at)
        }
    }

    private mutating func advance() -> MPCOutput {
        var out = MPCOutput()
        if var session = keygen {
            out.transactions += broadcasts(session.tick(now: now))
            switch session.status {
            case .finished:
                if let share = session.keyShare {
                    keyShare = share
                    out.keyShareToSeal = share
                    out.transactions.append(.shardKey(ShardKeyRegistration(epoch: epoch, key: share.publicData.publicKey.asPublicKey)))
                    out.log.append("key generation finished: X = \(Hex.encode(share.publicData.publicKey.compressed))")
                }
                keygen = nil
            case .failed(let e):
                out.log.append("key generation failed: \(e)")
                keygen = nil
            case .running:
                keygen = session
            }
        }
        for id in Array(presign.keys) {
            guard var session = presign[id] else { continue }
            out.transactions += broadcasts(session.tick(now: now))
            switch session.status {
            case .finished:
                let publics = session.publicData
                var batch = session.takePresignatures()
                while let p = batch.next() {
                    let pid = p.id.bytes
                    out.presignaturesToSeal.append((pid, p.sealedEncoding))
                    slots[pid] = PresignatureSlot(p)
                }
                for p in publics { publicData[p.id.bytes] = p }
                out.transactions.append(.presignatures(Shard.PresignatureBatch(epoch: epoch, ids: publics.map(\.id.bytes))))
                out.log.append("presignature batch finished: \(publics.count)")
                presign[id] = nil
            case .failed(let e):
                out.log.append("presignature batch failed: \(e)")
                presign[id] = nil
            case .running:
                presign[id] = session
            }
        }
        return out
    }

    private mutating func maybeStartPresigning(height: UInt64, state: ShardState) -> MPCOutput {
        var out = MPCOutput()
        guard let keyShare, state.shardKey != nil, height % settings.presignInterval == 0,
              state.presignaturesAvailable < settings.presignaturePoolTarget, presign.count < settings.presignSessionsMax else { return out }
        let session = SessionID(purpose: "presign", epoch: epoch, label: "\(height)")
        do {
            var s = try PresignSession(session: session, keyShare: keyShare, count: settings.presignBatch, identity: identity,
                                       identities: identities, timing: settings.timing)
            out.transactions = broadcasts(s.start(now: now))
            presign[session.bytes] = s
        } catch {
            out.log.append("presignature batch could not start: \(error)")
        }
        return out
    }

    // MARK: Signing

    /// The signing gate: a share only for a committed request holding exactly this presignature and digest.
    private mutating func sign(request: [UInt8], presignature: [UInt8], state: ShardState) -> MPCOutput {
        var out = MPCOutput()
        guard let keyShare, let publics = publicData[presignature], let committed = state.request(id: request) else { return out }
        do {
            let authorised = try state.authorizeSigning(request: request, presignature: presignature, digest: committed.digest, epoch: epoch)
            var combiner = try SignatureCombiner(presignature: publics, key: keyShare.publicData, digest: authorised.digest)
            if let slot = slots.removeValue(forKey: presignature), let p = slot.take() {
                out.presignaturesToDelete.append(presignature)
                let assignment = try PresignatureAssignment(id: try PresignatureID(bytes: presignature), digest: authorised.digest, epoch: epoch)
                let share = try p.signatureShare(for: assignment, ledger: &ledger)
                try combiner.add(share)
                out.shares.append(MPCWire.encode(MPCMessage(session: publics.session, sender: me, recipient: nil, round: 1,
                                                            payload: .signatureShare(share))))
            }
            for share in pendingShares.removeValue(forKey: presignature) ?? [] {
                pendingShareCount -= 1
                try? combiner.add(share)
            }
            combiners[presignature] = (request, combiner)
            out.merge(tryCombine(presignature))
        } catch {
            out.log.append("not signing request \(Hex.encode(request.prefix(8))): \(error)")
        }
        return out
    }

    /// A peer's signature share from the mesh.
    mutating func receiveShare(_ bytes: [UInt8]) -> MPCOutput {
        guard let message = try? MPCWire.decode(bytes), case .signatureShare(let share) = message.payload, share.signer == message.sender else {
            return MPCOutput()
        }
        let id = share.presignatureID.bytes
        if combiners[id] != nil {
            try? combiners[id]?.combiner.add(share)
            return tryCombine(id)
        }
        // Not assigned here yet (a peer decided the block first): keep it, bounded.
        guard pendingShareCount < settings.pendingSharesMax else { return MPCOutput() }
        pendingShares[id, default: []].append(share)
        pendingShareCount += 1
        return MPCOutput()
    }

    private mutating func tryCombine(_ presignature: [UInt8]) -> MPCOutput {
        var out = MPCOutput()
        guard var entry = combiners[presignature] else { return out }
        if let signature = entry.combiner.combine() {
            out.transactions.append(.signatures([SignatureResult(requestID: entry.request, signature: signature.signature)]))
            combiners[presignature] = nil
        } else {
            combiners[presignature] = entry
        }
        return out
    }

    /// Forgets combiners of requests the shard has recorded as signed.
    mutating func forgetSigned(_ requestIDs: Set<[UInt8]>) {
        combiners = combiners.filter { !requestIDs.contains($0.value.request) }
    }

    private func broadcasts(_ messages: [MPCMessage]) -> [ShardTransaction] {
        messages.compactMap { m in
            // A member's timeout vote for a round and its message of that round are two broadcasts: separate slots.
            var round = UInt16(clamping: min(m.round, 0x7FFF))
            if case .roundTimeout = m.payload { round |= 0x8000 }
            guard m.isBroadcast, let b = try? MPCBroadcast.signed(epoch: epoch, session: m.session.bytes, sender: committeeIndex,
                                                                  round: round, payload: MPCWire.encode(m), key: signingKey) else { return nil }
            return .mpcBroadcast(b)
        }
    }
}

extension Point {
    var asPublicKey: PublicKey { try! PublicKey(point: self) }
}
