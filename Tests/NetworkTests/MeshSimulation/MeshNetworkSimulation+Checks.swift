import SimulationKit

@testable import Network

/// What must hold after every event, and the convergence the scenario waits for after the heal. The checks read
/// the states' tables and compare them with the simulation's own ground truth (who is admitted, which links are
/// open), never with the state's bookkeeping of itself.
extension MeshNetworkSimulation {
    /// The honest nodes that must end fully connected (the revoked one and one whose evidence went bad are not).
    var members: [Int] { honest.filter { $0 != revoked && $0 != traffic.turnsBad } }

    /// Checks the nodes in `changed` (the others' states did not change).
    mutating func checkInvariants(_ changed: Set<Int>) {
        let limits = options.limits
        for i in changed.sorted() where honest.contains(i) {
            guard let state = nodes[i].state else { continue }
            let admitted = admittedBy(i)
            var installed: [PeerID: Int] = [:]
            var handshakesBySource: [String: Int] = [:]
            var awaitingVerdict: [PeerID: Int] = [:]
            for (id, record) in state.connections {
                switch record.phase {
                case .installed:
                    guard let peer = record.peer?.identity else {
                        violation("node \(i): installed connection \(id) without a peer")
                        continue
                    }
                    installed[peer, default: 0] += 1
                    if !admitted.contains(peer) { violation("node \(i): installed connection \(id) to \(name(peer)), not admitted") }
                case .authenticating:
                    if let source = record.source { handshakesBySource[source, default: 0] += 1 }
                case .awaitingVerdict:
                    if let peer = record.peer?.identity { awaitingVerdict[peer, default: 0] += 1 }
                }
            }
            report.maximumVerdictWaitsPerPeer = max(report.maximumVerdictWaitsPerPeer, awaitingVerdict.values.max() ?? 0)
            for (peer, count) in awaitingVerdict where count > limits.verdictWaitsPerPeerMax {
                violation("node \(i): \(count) connections of \(name(peer)) awaiting its verdict (limit \(limits.verdictWaitsPerPeerMax))")
            }
            for (peer, count) in installed where count > 1 {
                violation("node \(i): \(count) installed connections to \(name(peer))")
            }
            for (peer, id) in state.current {
                guard case .installed = state.connections[id]?.phase, state.connections[id]?.peer?.identity == peer else {
                    violation("node \(i): the connection of \(name(peer)) (\(id)) is not an installed one to it")
                    continue
                }
            }
            for (source, count) in handshakesBySource where count > limits.handshakesPerAddressMax {
                violation("node \(i): \(count) handshakes in progress from \(source) (limit \(limits.handshakesPerAddressMax))")
            }
            let handshakes = handshakesBySource.values.reduce(0, +)
            if handshakes > limits.handshakesInProgressMax {
                violation("node \(i): \(handshakes) handshakes in progress (limit \(limits.handshakesInProgressMax))")
            }
            if hostile != nil {
                let fromHostile = handshakesBySource.filter { $0.key.hasPrefix("10.66.") }.values.max() ?? 0
                report.maximumHostileHandshakes = max(report.maximumHostileHandshakes, fromHostile)
                report.maximumHandshakes = max(report.maximumHandshakes, handshakes)
            }
            if state.addressBook.records.count > limits.addressRecordsMax {
                violation("node \(i): \(state.addressBook.records.count) address records (limit \(limits.addressRecordsMax))")
            }
            for peer in state.addressBook.records.keys where !admitted.contains(peer) {
                violation("node \(i): address record of \(name(peer)), not admitted")
            }
        }
    }

    /// After the heal: the mesh is full within `settleBound`, then stays exactly as it is.
    mutating func checkConvergence() {
        guard sim.now >= healTime else { return }
        let overdue = report.convergedAt == nil && sim.now > healTime + options.settleBound
        guard meshChanged || overdue else { return }
        meshChanged = false
        let pairs = memberPairs()
        if report.convergedAt != nil {
            for pair in pairs where link(pair, between: nil) != convergedLinks[pair] {
                violation("pair \(pair) lost or changed its connection after the mesh converged at \(report.convergedAt!): \(describe(pair))")
            }
            return
        }
        let between = openLinksByPair()
        if pairs.allSatisfy({ link($0, between: between) != nil }) && noStrayConnections() {
            report.convergedAt = sim.now
            for pair in pairs { convergedLinks[pair] = link(pair, between: between) }
            converged()
        } else if overdue {
            let missing = pairs.filter { link($0, between: between) == nil }.map { "\($0): \(describe($0))" }
            violation("mesh not full \(options.settleBound) after the heal; missing \(missing), stray \(strayConnections())")
        }
    }

    /// End of run: the scenario's whole-run checks.
    mutating func finish() {
        if report.violations.isEmpty && report.convergedAt == nil { violation("the mesh never converged") }
        let stray = strayConnections()
        if report.violations.isEmpty && !stray.isEmpty { violation("connections left besides the mesh at the end: \(stray)") }
        finishTraffic()
        if let revoked {
            let connected = members.filter { nodes[revoked].state?.current[nodes[$0].identity] != nil }
            report.revokedStillConnectedAtEnd = connected.count
        }
    }

    func memberPairs() -> [[Int]] {
        let m = members
        let pairs = m.indices.flatMap { a in m[(a + 1)...].map { [m[a], $0] } }
        guard let graph = traffic.neighbours else { return pairs }
        return pairs.filter { graph[$0[0]].contains($0[1]) }
    }

    /// Links with an open end, by the pair of nodes they join.
    func openLinksByPair() -> [[Int]: Int] {
        var count: [[Int]: Int] = [:]
        for l in liveLinks where links[l].open.contains(true) { count[links[l].nodes.sorted(), default: 0] += 1 }
        return count
    }

    /// The target is a member's address or identity (a dial of anyone else is not the full mesh's business).
    func isMember(_ target: DialTarget) -> Bool {
        switch target {
        case .peer(let peer): members.contains { nodes[$0].identity == peer }
        case .bootstrap(let host, _): members.contains { MeshSimulationKeys.host($0) == host }
        }
    }

    /// The link both ends of `pair` have installed, both ends open, and (given the open links by pair) no other
    /// open link between them.
    func link(_ pair: [Int], between: [[Int]: Int]?) -> Int? {
        let (i, j) = (pair[0], pair[1])
        guard let a = nodes[i].state?.current[nodes[j].identity], let b = nodes[j].state?.current[nodes[i].identity],
            let l = linkOf[a], linkOf[b] == l, links[l].open == [true, true], links[l].stalled == [false, false]
        else { return nil }
        guard let between else { return l }
        return between[pair] == 1 ? l : nil
    }

    /// Records at members about other members' connections besides the installed one (late handshakes, half-open
    /// links): the mesh has settled only without them.
    func strayConnections() -> [String] {
        var stray: [String] = []
        for i in members {
            guard let state = nodes[i].state else { continue }
            let kept = Set(state.current.values)
            for id in state.connections.keys.sorted() where !kept.contains(id) {
                guard let l = linkOf[id], members.contains(links[l].nodes[1 - links[l].side(of: i)]) else { continue }
                stray.append("node \(i) \(id)")
            }
        }
        return stray
    }

    func noStrayConnections() -> Bool { strayConnections().isEmpty }

    func describe(_ pair: [Int]) -> String {
        let (i, j) = (pair[0], pair[1])
        let a = nodes[i].state?.current[nodes[j].identity], b = nodes[j].state?.current[nodes[i].identity]
        let open = liveLinks.sorted().filter { Set(links[$0].nodes) == Set(pair) }.map { "link \($0) open \(links[$0].open)" }
        return "\(i) has \(a.map { "\($0)" } ?? "none"), \(j) has \(b.map { "\($0)" } ?? "none"); \(open)"
    }

    func name(_ peer: PeerID) -> String {
        nodes.firstIndex { $0.identity == peer }.map { "node \($0)" } ?? "\(peer)"
    }

    mutating func violation(_ text: String) {
        report.violations.append("\(sim.now) \(text)")
    }
}

/// What a run did and what went wrong. `description` starts with the options line (`MESH_SIM_SEED=…`).
struct MeshSimulationReport: CustomStringConvertible {
    struct DialKey: Hashable {
        let node: Int
        let incarnation: UInt32
        let target: DialTarget
    }

    let options: MeshSimulationOptions
    var violations: [String] = []
    var events = 0
    var installs = 0
    var dials = 0
    var crashes = 0
    var cuts = 0
    var partitions = 0
    var simultaneousDials = 0
    var hostileDials = 0
    var lostSegments = 0
    var refusals = 0
    var disconnections = 0
    var maximumHandshakes = 0
    var maximumHostileHandshakes = 0
    var maximumVerdictWaitsPerPeer = 0
    var maximumDialsInASecond = 0
    var convergedAt: VirtualInstant?
    var revokedAt: VirtualInstant?
    var revokedStillConnectedAtEnd = 0
    var revokedWhileVerdictPending = false
    var traffic = TrafficReport()
    private var recentDials: [DialKey: [VirtualInstant]] = [:]

    init(options: MeshSimulationOptions) { self.options = options }

    var passed: Bool { violations.isEmpty }

    /// Virtual time from the heal to a full mesh.
    var convergence: Duration? { convergedAt.map { $0 - (VirtualInstant.zero + options.faultPhase) } }

    mutating func record(_ event: MeshEvent, at node: Int, time: VirtualInstant) {
        switch event {
        case .refused: refusals += 1
        case .disconnected, .evicted: disconnections += 1
        case .connected, .message: break
        }
    }

    /// Back-off: no target is dialled more often within one second than the planner's smallest delays allow.
    mutating func recordDial(node: Int, incarnation: UInt32, target: DialTarget, at time: VirtualInstant, options: MeshSimulationOptions) {
        dials += 1
        let key = DialKey(node: node, incarnation: incarnation, target: target)
        var times = recentDials[key, default: []].filter { time - $0 < .seconds(1) }
        times.append(time)
        recentDials[key] = times
        maximumDialsInASecond = max(maximumDialsInASecond, times.count)
        if times.count > options.maximumDialsPerSecond {
            violations.append("\(time) node \(node): \(times.count) dials of \(target) within one second (back-off allows \(options.maximumDialsPerSecond))")
        }
    }

    var description: String {
        var lines = [
            "\(options)",
            "  \(passed ? "passed" : "FAILED"): \(events) events, \(dials) dials (at most \(maximumDialsInASecond)/s per target),"
                + " \(installs) installs, \(refusals) refusals, \(disconnections) disconnections, \(cuts) cuts,"
                + " \(crashes) crashes, \(partitions) partitions, \(lostSegments) segments lost, \(simultaneousDials) simultaneous dials,"
                + " \(hostileDials) hostile dials (at most \(maximumHostileHandshakes) of its handshakes per source and \(maximumHandshakes) in all at a node,"
                + " \(maximumVerdictWaitsPerPeer) connections of one peer awaiting its verdict),"
                + " at most \(maximumVerdictWaitsPerPeer) connections of one peer awaiting a verdict at a node,"
                + " converged \(convergence.map { "\($0)" } ?? "never") after the heal",
        ]
        if let line = traffic.summary(options) { lines.append("  " + line) }
        lines += violations.prefix(5).map { "  violation: \($0)" }
        return lines.joined(separator: "\n")
    }
}
