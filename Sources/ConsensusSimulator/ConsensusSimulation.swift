import Consensus
import SimulationKit
import Secp256k1

/// A broken invariant, with enough context to read the trace.
public enum SimulationViolation: Equatable, Sendable, CustomStringConvertible {
    /// Two honest nodes decided different values at one height.
    case agreement(height: Height, node: Int, value: String, earlier: String)
    /// An honest node decided a value that fails the validity predicate.
    case validity(height: Height, node: Int)
    /// An honest node signed two different messages for one (height, round, step); `seenIn` is where the second
    /// one was caught (its WAL append, a broadcast, or a direct send).
    case doubleSign(node: Int, first: String, second: String, seenIn: SignatureOutlet)
    /// An honest node could not restart: its WAL did not recover.
    case walUnrecoverable(node: Int, reason: String)
    /// An honest node was reported for misbehaviour, or reported evidence did not verify.
    case falseEvidence(node: Int, evidence: String)
    /// After the network healed, honest nodes did not decide `heightsAfterHeal` more heights in time.
    case noProgress(healedAt: String, target: Height, heights: [Height])
    /// The run hit `eventsMax`.
    case eventBudgetExhausted

    public var description: String {
        switch self {
        case .agreement(let h, let n, let v, let e): "AGREEMENT violated at h\(h): node \(n) decided \(v), earlier \(e)"
        case .validity(let h, let n): "VALIDITY violated at h\(h) by node \(n)"
        case .doubleSign(let n, let a, let b, let at): "DOUBLE SIGN by honest node \(n) (in its \(at)): \(a) / \(b)"
        case .walUnrecoverable(let n, let reason): "WAL UNRECOVERABLE at node \(n): \(reason)"
        case .falseEvidence(let n, let e): "FALSE EVIDENCE from node \(n): \(e)"
        case .noProgress(let at, let t, let hs): "NO PROGRESS after heal at \(at): target h\(t), heights \(hs)"
        case .eventBudgetExhausted: "EVENT BUDGET exhausted"
        }
    }
}

/// Where an honest node's signature was seen by the double-sign check.
public enum SignatureOutlet: String, Sendable, Equatable {
    case wal
    case broadcast
    case send
}

/// The outcome of one run.
public struct ConsensusSimulationReport: Sendable, CustomStringConvertible {
    public let options: ConsensusSimulationOptions
    public let violations: [SimulationViolation]
    /// Heights decided by every honest node.
    public let decidedHeights: Height
    /// Packets handed to the network (broadcasts count once per recipient).
    public let messagesSent: Int
    public let events: Int
    public let virtualTime: VirtualInstant
    public let evidenceReported: Int
    public let crashes: Int
    public let signatureVerifications: Int
    /// Restarts that found a torn last WAL record (and dropped it).
    public let tornTails: Int
    /// Restarts of rolled-back nodes from an older WAL.
    public let rollbacks: Int
    /// Double signatures by rolled-back nodes counted as faulty: the check saw them, and they are within f.
    public let faultyDoubleSigns: Int
    /// Packets honest replicas refused, by reason (shows which attacks reached which check).
    public let rejections: [ConsensusError: Int]

    /// No violation, and the faults stayed within f (beyond it a clean run promises nothing).
    public var passed: Bool { violations.isEmpty && !options.faultBudgetExceeded }

    public var description: String {
        (passed ? "PASS " : "FAIL ") + options.description
            + " | decided=\(decidedHeights) msgs=\(messagesSent) events=\(events) \(virtualTime) evidence=\(evidenceReported) crashes=\(crashes)"
            + " tornTails=\(tornTails) rollbacks=\(rollbacks) faultyDoubleSigns=\(faultyDoubleSigns)"
            + (options.faultBudgetExceeded ? "\n  FAULT BUDGET exceeded: \(options.faultyCount) faulty > f = \(options.faultsTolerated)" : "")
            + violations.map { "\n  " + $0.description }.joined()
    }
}

/// Runs n consensus replicas over the simulated network (TigerBeetle's VOPR applied to Tendermint): a safety phase
/// with a faulty network, partitions, crashes and f Byzantine nodes, then a heal after which every honest node must
/// decide `heightsAfterHeal` more heights. Agreement, validity, the double-sign guard and evidence are checked after
/// every event.
public struct ConsensusSimulation {
    enum Timer {
        case consensus(Timeout)
        case tick
    }

    struct Node {
        let signer: Secp256k1Signer
        let disk = SimulatedDisk()
        var replica: Replica<SimulatedApplication>?
        let behaviour: ByzantineBehaviour?
        /// Its host restores an older WAL at every restart.
        let rolledBack: Bool
        var effectBoundaries = 0
        /// Decisions up to this height have been checked for agreement and validity.
        var decisionsChecked: Height = 0
        /// Byzantine nodes: values seen proposed, per (height, round).
        var proposalsSeen: [SlotKey: [Value]] = [:]
    }

    struct SlotKey: Hashable {
        let height: Height
        let round: Round
    }

    struct SignKey: Hashable {
        let signer: ValidatorKey
        let height: Height
        let round: Round
        let step: Step
    }

    public let options: ConsensusSimulationOptions
    var network: NetworkSimulator<[UInt8], Timer>
    var nodes: [Node]
    let validators: ValidatorSet
    let configuration: ConsensusProcess<SimulatedApplication>.Configuration
    let verifier: CachingVerifier
    var rng: DeterministicRNG
    var decided: [Height: Value] = [:]
    var honestSignatures: [SignKey: SignedMessage] = [:]
    var violations: [SimulationViolation] = []
    var healedAt: VirtualInstant?
    var targetHeight: Height = 0
    var pendingRestarts: [(at: VirtualInstant, node: Int)] = []
    var nextChaos = VirtualInstant.zero
    var scriptedPartitionsApplied = 0
    var events = 0
    var evidenceReported = 0
    var crashes = 0
    var tornTails = 0
    var rollbacks = 0
    var faultyDoubleSigns = 0
    var rejections: [ConsensusError: Int] = [:]
    /// Slots already reported as double-signed (one violation per slot, wherever it shows up again).
    var doubleSignsReported: Set<SignKey> = []
    /// Keys outside the validator set, for `forge`.
    let outsiders: [Secp256k1Signer]
    var keyIndex: [ValidatorKey: Int] = [:]
    /// Called about once per virtual second with every node's (height, round, step), for debugging a seed.
    public var trace: ((String) -> Void)?
    /// How often `trace` is called, in virtual time.
    public var traceInterval: Duration = .seconds(1)
    var nextTrace = VirtualInstant.zero

    public init(options: ConsensusSimulationOptions) {
        self.options = options
        var rng = DeterministicRNG(seed: options.seed)
        var keyRNG = rng.fork()
        let signers = (0..<options.nodeCount).map { _ in Secp256k1Signer(privateKey: .generate(using: &keyRNG)) }
        // Validator order = node order, so node i is validator i.
        validators = try! ValidatorSet(keys: signers.map { try! PublicKey(encoded: $0.key.compressed) })
        nodes = signers.enumerated().map { i, s in
            Node(signer: s, behaviour: options.byzantine[i], rolledBack: options.rolledBack.contains(i))
        }
        for (i, s) in signers.enumerated() { keyIndex[s.key] = i }
        configuration = .init(timeouts: options.timeouts, faults: options.injectedFaults)
        verifier = CachingVerifier(entriesMax: 200_000)
        network = NetworkSimulator(nodeCount: options.nodeCount, faults: options.faultyNetwork, rng: rng.fork())
        outsiders = options.byzantine.values.contains(.forge)
            ? (0..<options.nodeCount).map { _ in Secp256k1Signer(privateKey: .generate(using: &keyRNG)) } : []
        self.rng = rng
    }

    /// Nodes checked as honest: no Byzantine behaviour, and not rolled back (unless rollbacks are declared honest).
    var honest: [Int] { (0..<nodes.count).filter(isHonest) }

    func isHonest(_ i: Int) -> Bool {
        nodes[i].behaviour == nil && !(nodes[i].rolledBack && options.rollbackCountsAsFaulty)
    }

    /// Runs to the end and reports. The same options always give the same report.
    public mutating func run() -> ConsensusSimulationReport {
        // A partition scripted at time zero holds from the first message.
        applyScriptedPartitions()
        for i in 0..<nodes.count { boot(i) }
        while violations.isEmpty, events < options.eventsMax {
            if healedAt == nil && network.now >= VirtualInstant.zero + options.faultPhase { heal() }
            if healedAt == nil {
                applyScriptedPartitions()
                chaos()
            }
            restartDue()
            if let h = healedAt {
                if honest.allSatisfy({ nodes[$0].disk.lastDecided >= targetHeight }) { break }
                if network.now > h + options.livenessBudget {
                    violations.append(.noProgress(healedAt: h.description, target: targetHeight,
                                                  heights: honest.map { nodes[$0].disk.lastDecided }))
                    break
                }
            }
            guard let event = network.next() else { break }
            events += 1
            if let trace, network.now >= nextTrace {
                nextTrace = network.now + traceInterval
                trace(statusLine)
            }
            dispatch(event)
        }
        if events >= options.eventsMax { violations.append(.eventBudgetExhausted) }
        return ConsensusSimulationReport(
            options: options, violations: violations,
            decidedHeights: honest.map { nodes[$0].disk.lastDecided }.min() ?? 0,
            messagesSent: network.statistics.sent, events: events, virtualTime: network.now,
            evidenceReported: evidenceReported, crashes: crashes, signatureVerifications: verifier.verifications,
            tornTails: tornTails, rollbacks: rollbacks, faultyDoubleSigns: faultyDoubleSigns, rejections: rejections)
    }

    /// Every node's state: `i:h/r/step` (`x` crashed, `*` Byzantine, `~` rolled back).
    public var statusLine: String {
        "\(network.now) " + nodes.indices.map { i in
            guard let p = nodes[i].replica?.process else { return "\(i):x" }
            let lock = p.locked.map { "L\($0.round)\($0.value)" } ?? ""
            let valid = p.valid.map { "V\($0.round)\($0.value)" } ?? ""
            let mark = nodes[i].behaviour != nil ? "*" : nodes[i].rolledBack ? "~" : ""
            return "\(i)\(mark):\(p.height)/\(p.round)/\(p.step)\(lock)\(valid)"
        }.joined(separator: " ")
    }

    // MARK: Phases

    mutating func heal() {
        healedAt = network.now
        network.heal()
        network.faults = .calm
        for (_, node) in pendingRestarts { restart(node) }
        pendingRestarts = []
        targetHeight = (honest.map { nodes[$0].disk.lastDecided }.max() ?? 0) + options.heightsAfterHeal
    }

    mutating func applyScriptedPartitions() {
        let upcoming = max(network.now, network.nextEventTime ?? network.now)
        while scriptedPartitionsApplied < options.scriptedPartitions.count,
            upcoming >= VirtualInstant.zero + options.scriptedPartitions[scriptedPartitionsApplied].at
        {
            network.partition(options.scriptedPartitions[scriptedPartitionsApplied].groups)
            scriptedPartitionsApplied += 1
        }
    }

    mutating func chaos() {
        guard network.now >= nextChaos else { return }
        nextChaos = network.now + rng.duration(in: .milliseconds(50)...(.milliseconds(500)))
        guard rng.chance(options.partitionChange) else { return }
        if network.isPartitioned && rng.chance(Ratio(1, 2)) {
            network.heal()
        } else {
            let sides = 2 + rng.index(2)
            network.partition((0..<nodes.count).map { _ in rng.index(sides) })
        }
    }

    mutating func restartDue() {
        while let i = pendingRestarts.firstIndex(where: { $0.at <= network.now }) {
            let node = pendingRestarts.remove(at: i).node
            restart(node)
        }
    }

    // MARK: Nodes

    mutating func boot(_ i: Int) {
        let disk = nodes[i].disk
        let height = disk.lastDecided + 1
        let recovery: WALRecovery
        do { recovery = try disk.recover() } catch {
            violations.append(.walUnrecoverable(node: i, reason: "\(error)"))
            return
        }
        if case .torn(let bytes) = recovery.tail {
            tornTails += 1
            guard options.dropTornTail else {
                violations.append(.walUnrecoverable(node: i, reason: "torn last record (\(bytes) bytes) refused"))
                return
            }
        }
        let entries = options.walEnabled ? recovery.entries.filter { $0.height == height } : []
        // A fresh generator per boot: a restarted proposer would propose something else without its WAL.
        let app = SimulatedApplication(node: i, rng: rng.fork(), disk: disk)
        let process = ConsensusProcess(restoringHeight: height, from: entries, validators: validators,
                                       signer: nodes[i].signer, app: app, configuration: configuration)
        nodes[i].replica = Replica(process: process, verifier: verifier, certificates: disk.recentCertificates)
        let effects = nodes[i].replica!.start()
        network.setTimer(.tick, node: i, after: options.tickInterval)
        carryOut(effects, node: i)
    }

    mutating func restart(_ i: Int) {
        network.restart(i)
        boot(i)
    }

    mutating func crash(_ i: Int) {
        crashes += 1
        network.crash(i)
        nodes[i].replica = nil
        if nodes[i].rolledBack {
            nodes[i].disk.rollBack()
            rollbacks += 1
        }
        if healedAt != nil {
            restart(i)
        } else {
            pendingRestarts.append((network.now + rng.duration(in: options.restartDelay), i))
        }
    }

    mutating func dispatch(_ event: SimulationEvent<[UInt8], Timer>) {
        switch event {
        case .timer(let i, .tick):
            network.setTimer(.tick, node: i, after: options.tickInterval)
            if let effects = nodes[i].replica?.tick() { carryOut(effects, node: i) }
        case .timer(let i, .consensus(let t)):
            if let effects = nodes[i].replica?.timeout(t) { carryOut(effects, node: i) }
        case .message(_, let to, let packet):
            if nodes[to].behaviour != nil { observeProposal(packet, node: to) }
            if let effects = nodes[to].replica?.receive(packet) { carryOut(effects, node: to) }
        }
    }

    mutating func carryOut(_ effects: [ReplicaEffect], node i: Int) {
        if nodes[i].behaviour != nil {
            carryOutByzantine(effects, node: i)
            return
        }
        // The application records a decision while the replica handles the event, before its effects reach us, so
        // the check covers every height decided since the last check rather than those decided in this batch.
        defer { checkDecisions(node: i) }
        for effect in effects {
            if shouldCrash(i) {
                // A crash on an append may tear it: part of the record reaches the disk, none of what follows runs.
                if case .persist(let entry) = effect, rng.chance(options.tornWrite) {
                    let recordBytes = WALRecords.frame(entry).count
                    nodes[i].disk.appendTorn(entry, keeping: 1 + rng.index(recordBytes - 1))
                }
                crash(i)
                return
            }
            switch effect {
            case .persist(let entry):
                if case .signed(let m) = entry { checkSignature(m, node: i, in: .wal) }
                nodes[i].disk.append(entry)
            case .broadcast(let packet):
                checkSignature(packet, node: i, in: .broadcast)
                network.broadcast(packet, from: i)
            case .send(let packet, let key):
                checkSignature(packet, node: i, in: .send)
                if let to = keyIndex[key] { network.send(packet, from: i, to: to) }
            case .schedule(let t, let after):
                network.setTimer(.consensus(t), node: i, after: after)
            case .commit(let c):
                nodes[i].disk.discard(below: c.height + 1)
            case .evidence(let e):
                checkEvidence(e, node: i)
            case .rejected(let reason):
                rejections[reason, default: 0] += 1
            }
        }
    }

    mutating func shouldCrash(_ i: Int) -> Bool {
        defer { nodes[i].effectBoundaries += 1 }
        if let target = options.crashAtBoundary, target.node == i, target.boundary == nodes[i].effectBoundaries {
            return true
        }
        return healedAt == nil && rng.chance(nodes[i].rolledBack ? options.rolledBackCrash : options.crash)
    }

    // MARK: Invariants

    mutating func checkDecisions(node i: Int) {
        let disk = nodes[i].disk
        let first = nodes[i].decisionsChecked + 1
        guard disk.lastDecided >= first else { return }
        nodes[i].decisionsChecked = disk.lastDecided
        for h in first...disk.lastDecided {
            guard let c = disk.decisions[h] else { continue }
            if !SimulatedValues.isValid(c.value, height: h) { violations.append(.validity(height: h, node: i)) }
            if let earlier = decided[h] {
                if earlier != c.value {
                    violations.append(.agreement(height: h, node: i, value: c.value.description, earlier: earlier.description))
                }
            } else {
                decided[h] = c.value
            }
        }
    }

    /// The double-sign check for a packet a non-Byzantine node sends (certificates and relayed messages are not its
    /// signatures and are skipped).
    mutating func checkSignature(_ packet: [UInt8], node i: Int, in outlet: SignatureOutlet) {
        guard packet.count > 1, packet[1] != MessageKind.certificate.rawValue,
            let m = try? SignedMessage.decode(packet[...])
        else { return }
        checkSignature(m, node: i, in: outlet)
    }

    /// Every message a non-Byzantine node signs — appended to its WAL, broadcast or sent to one peer — is compared
    /// with the first one it signed for that (height, round, step), across restarts. A rolled-back node counted as
    /// faulty is expected to sign twice: that is counted (`faultyDoubleSigns`), not a violation.
    mutating func checkSignature(_ m: SignedMessage, node i: Int, in outlet: SignatureOutlet) {
        guard m.signer == nodes[i].signer.key else { return }
        let key = SignKey(signer: m.signer, height: m.message.height, round: m.message.round, step: m.message.step)
        guard let earlier = honestSignatures[key] else {
            honestSignatures[key] = m
            return
        }
        guard earlier.message != m.message, doubleSignsReported.insert(key).inserted else { return }
        if isHonest(i) {
            violations.append(.doubleSign(node: i, first: earlier.description, second: m.description, seenIn: outlet))
        } else {
            faultyDoubleSigns += 1
        }
    }

    mutating func checkEvidence(_ e: Misbehaviour, node i: Int) {
        evidenceReported += 1
        let verifies = (try? e.verify(validators: validators, scheduler: configuration.scheduler, with: verifier)) != nil
        let offender = keyIndex[e.offender]
        if !verifies || offender.map(isHonest) ?? true {
            violations.append(.falseEvidence(node: i, evidence: e.description))
        }
    }
}
