import Consensus
import SimulationKit
import Secp256k1

/// Runs n consensus replicas over the simulated network (TigerBeetle's VOPR applied to Tendermint): a safety phase
/// with a faulty network, partitions, crashes (which may tear a WAL append) and f faulty nodes (Byzantine, or honest
/// with a WAL its host rolls back), then a heal after which every honest node must decide `heightsAfterHeal` more
/// heights. The invariants (`ConsensusSimulation+Invariants.swift`) are checked after every event.
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
}
