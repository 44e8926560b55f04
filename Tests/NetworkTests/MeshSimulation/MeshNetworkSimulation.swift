import Foundation
import SimulationKit
import WireCodec

@testable import Network

/// N nodes' `MeshState`s driven by SimulationKit's `NetworkSimulator` in virtual time: this file is the driver
/// (what `Mesh` does with sockets, done with simulated links). Every connection attempt, handshake message, verdict
/// byte, frame and close is a simulator message with a seeded delay, loss, duplication and reordering; partitions,
/// crashes and restarts come from the scenario's controller. Each node's `MeshAction`s become simulator events.
/// After every event the invariants are checked (`MeshNetworkSimulation+Checks`).
struct MeshNetworkSimulation {
    struct Node {
        var state: TestMeshState?
        var incarnation: UInt32 = 0
        /// The process runs; false after a crash until the restart.
        var alive = true
        /// The whole host is down (silent), not only the process (whose host answers with resets).
        var hostDown = false
        var keyIndex: Int
        var peer: AuthenticatedPeer { MeshSimulationKeys.peers[keyIndex] }
        var identity: PeerID { peer.identity }
    }

    let options: MeshSimulationOptions
    var sim: NetworkSimulator<Wire, SimulationTimer>
    var random: DeterministicRNG
    var nodes: [Node]
    let honest: Range<Int>
    /// The hostile node's index (when the scenario has one), and the controller's (it only sets timers).
    let hostile: Int?
    let controller: Int
    /// Identities admitted by the honest nodes now (one may be revoked mid-run).
    var admitted: Set<PeerID>
    var revoked: Int?
    /// The revocation waits for its moment (see `considerRevocation`).
    var revocationArmed = false
    var links: [SimulatedLink] = []
    /// Links with an end still open.
    var liveLinks: Set<Int> = []
    var linkOf: [ConnectionID: Int] = [:]
    /// The hostile node's connections that never send a handshake message.
    var stalled: Set<Int> = []
    /// The source address of each hostile connection.
    var hostileSources: [Int: String] = [:]
    /// Each member pair's link when the mesh converged (it must not change afterwards).
    var convergedLinks: [[Int]: Int] = [:]
    var dialledSinceConvergence: Set<[AnyHashable]> = []
    /// The nodes whose state changed in the current event (only they are checked after it).
    var touched: Set<Int> = []
    /// A connection was installed, closed, stalled or opened since the last convergence check.
    var meshChanged = true
    /// Segment loss (the simulator's own loss is off: see `send`).
    var loss: Ratio
    private var lastConnectionID: UInt64 = 0
    let origin = ContinuousClock.now
    var bootstrap: [[Int]]
    var report: MeshSimulationReport
    /// Re-attestation, gossip and the lagging consumer (`MeshNetworkSimulation+Traffic`).
    var traffic: TrafficState

    init(options: MeshSimulationOptions) {
        self.options = options
        let n = options.honestCount
        // Nodes: the honest ones, the hostile pusher (gossip), the hostile dialer, the controller.
        let pushers = options.gossip?.hostilePusher == true ? 1 : 0
        precondition(n + pushers + (options.hostile == nil ? 0 : 1) <= MeshSimulationKeys.count)
        var random = DeterministicRNG(seed: options.seed)
        let deal = Array(0..<MeshSimulationKeys.count).shuffled(using: &random)
        honest = 0..<n
        hostile = options.hostile == nil ? nil : n + pushers
        controller = n + pushers + (options.hostile == nil ? 0 : 1)
        nodes = (0..<controller).map { Node(keyIndex: deal[$0]) }
        traffic = TrafficState(options: options, nodeCount: controller, random: &random)
        var admitted = Set(nodes[honest].map(\.identity))
        if let hostile, options.hostile!.admitted { admitted.insert(nodes[hostile].identity) }
        self.admitted = admitted
        // Every pair has at least one dialler: one of the two (or both: simultaneous dials) lists the other as a
        // bootstrap address. Address records learnt from peers add more targets. With an admission graph, only
        // the pairs it joins.
        let graph = traffic.neighbours
        var bootstrap = Array(repeating: [Int](), count: n + pushers)
        for i in 0..<(n + pushers) {
            for j in (i + 1)..<max(n + pushers, i + 1) where graph.map({ $0[i].contains(j) }) ?? (j < n) {
                switch options.mutualBootstrap ? 2 : random.index(3) {
                case 0: bootstrap[i].append(j)
                case 1: bootstrap[j].append(i)
                default: bootstrap[i].append(j); bootstrap[j].append(i)
                }
            }
        }
        self.bootstrap = bootstrap
        var faults = options.faults
        faults.drop = .never
        loss = options.faults.drop
        sim = NetworkSimulator(nodeCount: controller + 1, faults: faults, rng: random.fork())
        self.random = random
        report = MeshSimulationReport(options: options)
        for i in honest { start(i) }
        sim.setTimer(.heal, node: controller, after: options.faultPhase)
        if options.chaos != .none { sim.setTimer(.chaos, node: controller, after: .milliseconds(200)) }
        if options.revokeOne {
            revoked = self.random.index(n)
            let latest = max(.milliseconds(500), options.faultPhase - .seconds(1))
            sim.setTimer(.revoke, node: controller, after: self.random.duration(in: .milliseconds(500)...latest))
        }
        if hostile != nil { sim.setTimer(.hostileDial, node: hostile!, after: .milliseconds(1)) }
        if let pusher = traffic.pusher { start(pusher) }
        scheduleTraffic()
    }

    var now: ContinuousClock.Instant { origin + (sim.now - .zero) }
    var healTime: VirtualInstant { .zero + options.faultPhase }
    var endTime: VirtualInstant { healTime + options.settleBound + options.stableWindow }

    /// Runs to the end (or the first violation) and returns the report.
    mutating func run() -> MeshSimulationReport {
        while let event = sim.next() {
            guard sim.now <= endTime, report.convergedAt.map({ sim.now <= $0 + options.stableWindow }) ?? true else { break }
            report.events += 1
            switch event {
            case .message(let from, let to, let wire): received(wire, from: from, at: to)
            case .timer(let node, let timer): fired(timer, at: node)
            }
            checkInvariants(touched)
            checkTraffic(touched)
            touched.removeAll(keepingCapacity: true)
            if revocationArmed { considerRevocation() }
            guard report.violations.isEmpty else { break }
            checkConvergence()
            guard report.violations.isEmpty else { break }
        }
        finish()
        return report
    }

    // MARK: Processes

    private mutating func start(_ i: Int) {
        let limits = options.limits
        meshChanged = true
        nodes[i].state = TestMeshState(
            identity: nodes[i].identity, limits: limits, admitted: admittedBy(i),
            bootstrap: bootstrap[i].map { (MeshSimulationKeys.host($0), MeshSimulationKeys.port) },
            reattestsPeers: options.reattestation != nil, answersChallenges: options.reattestation != nil,
            random: random.fork())
        traffic.restarted(i)
        let first = random.duration(in: .zero...limits.timerResolution)
        sim.setTimer(.tick(incarnation: nodes[i].incarnation), node: i, after: first)
    }

    /// The admission set node `i` uses: the revoked node keeps admitting the others.
    func admittedBy(_ i: Int) -> Set<PeerID> {
        if let graph = traffic.neighbours { return Set(graph[i].map { nodes[$0].identity }) }
        guard let revoked, i == revoked else { return admitted }
        return admitted.union([nodes[i].identity])
    }

    mutating func crash(_ i: Int, hostDown: Bool) {
        guard nodes[i].alive else { return }
        nodes[i].alive = false
        nodes[i].hostDown = hostDown
        nodes[i].incarnation &+= 1
        nodes[i].state = nil
        report.crashes += 1
        if hostDown { sim.crash(i) }
        for l in liveLinks.sorted() {
            for side in 0..<2 where links[l].nodes[side] == i {
                if side == 0 && !links[l].connectResolved { links[l].connectResolved = true }
                guard links[l].open[side] else { continue }
                links[l].open[side] = false
                // The host's kernel resets the connections of a dead process; a dead host says nothing.
                if !hostDown { sim.send(.reset(link: l), from: i, to: links[l].nodes[1 - side]) }
            }
            retire(l)
        }
    }

    mutating func restart(_ i: Int) {
        guard !nodes[i].alive else { return }
        if nodes[i].hostDown { sim.restart(i) }
        nodes[i].alive = true
        nodes[i].hostDown = false
        start(i)
    }

    // MARK: Feeding the state and carrying out its actions

    mutating func feed(_ input: MeshInput, at i: Int) {
        guard nodes[i].alive, nodes[i].state != nil else { return }
        touched.insert(i)
        if case .closed = input { meshChanged = true }
        let actions = nodes[i].state!.handle(input, now: now)
        perform(actions, at: i)
    }

    mutating func perform(_ actions: [MeshAction], at i: Int) {
        for action in actions {
            guard nodes[i].alive else { return }
            if options.trace { trace(action, at: i) }
            switch action {
            case .authenticate(let id, _):
                guard let l = linkOf[id] else { continue }
                let side = links[l].side(of: i)
                links[l].sentHello[side] = true
                send(.hello(nodes[i].peer, evidenceGood: traffic.evidenceGood(i)), on: l, from: side)
                sim.setTimer(.handshakeTimeout(link: l, incarnation: nodes[i].incarnation), node: i, after: options.handshakeTimeout)
                completeHandshake(l, side: side)
            case .close(let id), .closeAsDuplicate(let id, _):
                meshChanged = true
                guard let l = linkOf[id] else { continue }
                close(l, side: links[l].side(of: i))
            case .sendVerdict(let id, let keep):
                guard let l = linkOf[id] else { continue }
                send(.verdict(keep: keep), on: l, from: links[l].side(of: i))
            case .send(let id, let envelope, let bytes):
                nodes[i].state!.written(bytes, on: id)
                guard observeSent(envelope, on: id, at: i), let l = linkOf[id] else { continue }
                send(.frame(envelope), on: l, from: links[l].side(of: i))
            case .sendAddresses(let id, let known):
                sendAddresses(known, on: id, at: i)
            case .verifyAddresses(let id, let signed):
                let records = signed.compactMap { (try? $0.serializedData()).flatMap { MeshSimulationKeys.verified[$0] } }
                feed(.addressesVerified(id, records), at: i)
            case .report(let event):
                report.record(event, at: i, time: sim.now)
                reported(event, at: i)
            case .install(let id, let peer):
                checkInstall(id, of: peer, at: i)
                meshChanged = true
                report.installs += 1
            case .dial(let target, let host, let port):
                report.recordDial(node: i, incarnation: nodes[i].incarnation, target: target, at: sim.now, options: options)
                if report.convergedAt != nil, members.contains(i), isMember(target),
                    !dialledSinceConvergence.insert([AnyHashable(i), AnyHashable(target)]).inserted {
                    // The mesh is full: a target may be dialled once to learn who it is, never again.
                    violation("node \(i) dialled \(target) again after the mesh converged")
                }
                dial(from: i, host: host, port: port, target: target)
            case .awaitVerdict, .completePing:
                break
            case .setReadsPaused, .answerChallenge, .checkAttestation:
                performTraffic(action, at: i)
            }
        }
    }

    // MARK: Links (simulated TCP: MeshNetworkSimulation+Links)

    mutating func newConnectionID() -> ConnectionID {
        lastConnectionID += 1
        return ConnectionID(raw: lastConnectionID)
    }

    mutating func fired(_ timer: SimulationTimer, at node: Int) {
        switch timer {
        case .tick(let incarnation):
            guard nodes[node].alive, nodes[node].incarnation == incarnation, nodes[node].state != nil else { return }
            let actions = nodes[node].state!.tick(now: now)
            // A tick that asks for nothing changed no connection (health timestamps and the planner only).
            if !actions.isEmpty { touched.insert(node) }
            perform(actions, at: node)
            sim.setTimer(timer, node: node, after: options.limits.timerResolution)
        case .handshakeTimeout(let l, let incarnation):
            let side = links[l].side(of: node)
            guard nodes[node].incarnation == incarnation, links[l].open[side], !links[l].authenticated[side],
                let id = links[l].ids[side]
            else { return }
            if node == hostile { return close(l, side: side) }
            feed(.authenticationFailed(id, reason: "handshake timed out"), at: node)
        case .connectTimeout(let l, let incarnation):
            guard nodes[node].incarnation == incarnation, !links[l].connectResolved else { return }
            links[l].connectResolved = true
            retire(l)
            if let target = links[l].target { feed(.dialFailed(target), at: node) }
        case .closedLocally(let id, let incarnation):
            guard nodes[node].incarnation == incarnation else { return }
            feed(.closed(id), at: node)
        case .hostileDial: hostileDial()
        case .hostileClose(let l): close(l, side: 0)
        case .chaos: chaos()
        case .heal: heal()
        case .revoke: revocationArmed = true
        case .traffic(let timer): firedTraffic(timer, at: node)
        }
    }
}
