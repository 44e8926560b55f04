import SimulationKit
import WireCodec

@testable import Network

/// The scenario's controller (chaos, heal, revocation) and the hostile node.
extension MeshNetworkSimulation {
    // MARK: Controller

    /// One random fault, then the next one after a random pause, until the heal.
    mutating func chaos() {
        let up = honest.filter { nodes[$0].alive }
        guard sim.now < healTime else {
            // Pairs that are connected dial each other again: each must keep its connection.
            // They stop a second before the run ends, so the last duplicates are gone by then.
            let quietFrom = report.convergedAt.map { $0 + (options.stableWindow - .seconds(1)) }
            guard options.chaos == .simultaneousDials, quietFrom.map({ sim.now < $0 }) ?? true else { return }
            simultaneousDial(among: up)
            sim.setTimer(.chaos, node: controller, after: random.duration(in: .milliseconds(100)...(.milliseconds(400))))
            return
        }
        let down = honest.filter { !nodes[$0].alive }
        let roll = random.index(100)
        switch options.chaos {
        case .everything: break
        case .none: return
        case .cuts: if roll < 70 { cut() }
        case .partitions:
            if roll < 50 { partition() } else if roll < 80 { sim.heal() }
        case .simultaneousDials:
            if roll < 60 { simultaneousDial(among: up) } else if roll < 80 { cut() }
        }
        let pause: ClosedRange<Duration> = options.chaos == .partitions ? .milliseconds(200)...(.seconds(4)) : .milliseconds(20)...(.milliseconds(300))
        defer { sim.setTimer(.chaos, node: controller, after: random.duration(in: pause)) }
        guard options.chaos == .everything else { return }
        switch roll {
        case 0..<30: cut()
        case 30..<42:
            if up.count > 1, let i = up.randomElement(using: &random) { crash(i, hostDown: random.chance(Ratio(1, 3))) }
        case 42..<60:
            if let i = down.randomElement(using: &random) { restart(i) }
        case 60..<68: partition()
        case 68..<76:
            sim.heal()
        case 76..<92: simultaneousDial(among: up)
        default:
            break
        }
    }

    /// Both ends of a random pair connect to each other at once (`Mesh.connect`, no planner target).
    private mutating func simultaneousDial(among up: [Int]) {
        guard up.count > 1 else { return }
        let pair = up.shuffled(using: &random).prefix(2)
        open(from: pair.first!, to: pair.last!, target: nil)
        open(from: pair.last!, to: pair.first!, target: nil)
        report.simultaneousDials += 1
    }

    /// A connection breaks at one end (a socket error): a FIN goes to the other end.
    private mutating func cut() {
        let open = liveLinks.sorted().filter { l in (0..<2).contains { links[l].open[$0] && links[l].nodes[$0] != hostile } }
        guard let l = open.randomElement(using: &random) else { return }
        let side = (0..<2).filter { links[l].open[$0] && links[l].nodes[$0] != hostile }.randomElement(using: &random)!
        report.cuts += 1
        close(l, side: side)
    }

    /// The honest nodes split into two random sides (the hostile node and the controller stay on side 0).
    private mutating func partition() {
        var groups = (0..<sim.nodeCount).map { _ in 0 }
        for i in honest { groups[i] = random.index(2) }
        sim.partition(groups)
        report.partitions += 1
    }

    /// The end of the fault phase: no partition, no loss, every node up.
    mutating func heal() {
        sim.heal()
        sim.faults = options.calm
        loss = options.calm.drop
        for i in honest where !nodes[i].alive { restart(i) }
    }

    /// The adversarial moment to revoke: while a member waits for the verdict byte of a connection to the node
    /// (admission must be checked again when the verdict installs it), or, failing that, 500 ms before the heal.
    mutating func considerRevocation() {
        guard let revoked else { return }
        let identity = nodes[revoked].identity
        let waiting = members.contains { i in
            nodes[i].state?.connections.values.contains {
                if case .awaitingVerdict = $0.phase { $0.peer?.identity == identity } else { false }
            } ?? false
        }
        guard waiting || sim.now + .milliseconds(500) >= healTime else { return }
        revocationArmed = false
        report.revokedWhileVerdictPending = waiting
        revoke()
    }

    /// The revoked node leaves every other node's admission set (an epoch change); it keeps dialling them.
    mutating func revoke() {
        guard let revoked else { return }
        admitted.remove(nodes[revoked].identity)
        meshChanged = true
        report.revokedAt = sim.now
        for i in honest where i != revoked { feed(.admissionChanged(admittedBy(i)), at: i) }
    }

    // MARK: Hostile node

    /// Dials a random honest node, ignoring any back-off. Most connections never send a handshake message.
    mutating func hostileDial() {
        guard let hostile, let behaviour = options.hostile else { return }
        let l = open(from: hostile, to: random.index(options.honestCount), target: nil)
        if random.chance(behaviour.stalled) { stalled.insert(l) }
        hostileSources[l] = "10.66.0.\(1 + random.index(behaviour.sources))"
        report.hostileDials += 1
        sim.setTimer(.hostileDial, node: hostile, after: behaviour.dialInterval)
    }

    mutating func hostileEstablished(_ l: Int) {
        guard !stalled.contains(l), let hostile else { return }
        links[l].sentHello[0] = true
        send(.hello(nodes[hostile].peer, evidenceGood: true), on: l, from: 0)
        completeHandshake(l, side: 0)
    }

    /// Authenticated: as the decider it keeps every connection; either way it drops it soon to dial again.
    mutating func hostileAuthenticated(_ l: Int, side: Int) {
        guard let hostile else { return }
        if nodes[hostile].identity > nodes[links[l].nodes[1 - side]].identity, !options.hostile!.withholdsVerdicts {
            send(.verdict(keep: true), on: l, from: side)
        }
        sim.setTimer(.hostileClose(link: l), node: hostile, after: random.duration(in: .milliseconds(10)...(.milliseconds(800))))
    }

    /// It answers liveness probes, so its connections last until it drops them.
    mutating func hostileReceived(_ envelope: Darknode_V1_Envelope, on l: Int, side: Int) {
        guard envelope.kind == .ping, let hostile else { return }
        send(.frame(.mesh(.pong, payload: [UInt8](envelope.payload), author: nodes[hostile].identity.bytes)), on: l, from: side)
    }
}
