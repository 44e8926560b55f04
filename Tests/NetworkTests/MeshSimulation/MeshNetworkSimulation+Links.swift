import SimulationKit
import WireCodec

@testable import Network

/// The simulated TCP connections: dial, SYN/SYN-ACK, in-order segments, FIN and resets, and what each end's
/// state learns from them.
extension MeshNetworkSimulation {
    /// Node `i` opens a TCP connection to `host`; a host that is not a node refuses at once.
    mutating func dial(from i: Int, host: String, port: Int, target: DialTarget?) {
        guard let j = nodes.indices.first(where: { MeshSimulationKeys.host($0) == host }), j != i else {
            if let target { feed(.dialFailed(target), at: i) }
            return
        }
        open(from: i, to: j, target: target)
    }

    @discardableResult
    mutating func open(from i: Int, to j: Int, target: DialTarget?) -> Int {
        let l = links.count
        links.append(SimulatedLink(dialer: i, listener: j, target: target, dialerIncarnation: nodes[i].incarnation))
        liveLinks.insert(l)
        send(.syn, on: l, from: 0)
        sim.setTimer(.connectTimeout(link: l, incarnation: nodes[i].incarnation), node: i, after: options.connectTimeout)
        return l
    }

    /// Sends a segment. Loss is decided here, not by the simulator, so the link knows it has stalled (the mesh
    /// does not: only its timers can tell).
    mutating func send(_ segment: Segment, on l: Int, from side: Int) {
        let sequence = links[l].nextSend[side]
        links[l].nextSend[side] += 1
        let (from, to) = (links[l].nodes[side], links[l].nodes[1 - side])
        if !sim.canReach(from: from, to: to) || random.chance(loss) {
            links[l].stalled[side] = true
            meshChanged = true
            report.lostSegments += 1
            return
        }
        sim.send(.segment(link: l, sequence: sequence, segment), from: links[l].nodes[side], to: links[l].nodes[1 - side])
    }

    /// The process at `side` closes its end: a FIN follows what it sent, and its state learns of the close.
    mutating func close(_ l: Int, side: Int) {
        guard links[l].open[side], let id = links[l].ids[side] else { return }
        links[l].open[side] = false
        send(.fin, on: l, from: side)
        let node = links[l].nodes[side]
        sim.setTimer(.closedLocally(id, incarnation: nodes[node].incarnation), node: node, after: .zero)
        retire(l)
    }

    /// The link ended at `side` without a FIN of ours (reset, or the peer's FIN).
    mutating func ended(_ l: Int, side: Int) {
        guard links[l].open[side], let id = links[l].ids[side] else { return }
        links[l].open[side] = false
        retire(l)
        let node = links[l].nodes[side]
        if node == hostile { return }
        feed(.closed(id), at: node)
    }

    mutating func retire(_ l: Int) {
        meshChanged = true
        if !links[l].open[0] && !links[l].open[1] && links[l].connectResolved { liveLinks.remove(l) }
    }

    mutating func completeHandshake(_ l: Int, side: Int) {
        guard links[l].open[side], links[l].sentHello[side], !links[l].authenticated[side],
            let peer = links[l].receivedHello[side], let id = links[l].ids[side]
        else { return }
        links[l].authenticated[side] = true
        let node = links[l].nodes[side]
        if node == hostile { return hostileAuthenticated(l, side: side) }
        if !links[l].helloEvidenceGood[side] {
            // The handshake appraises the peer's evidence (EKEP): a node whose platform went bad is refused.
            return feed(.authenticationFailed(id, reason: "attestation evidence rejected"), at: node)
        }
        feed(.authenticated(id, peer), at: node)
    }

    // MARK: Arrivals

    mutating func received(_ wire: Wire, from: Int, at to: Int) {
        switch wire {
        case .reset(let l):
            let side = links[l].side(of: to)
            if side == 0, !links[l].connectResolved {
                // Connection refused.
                links[l].connectResolved = true
                retire(l)
                if let target = links[l].target, nodes[to].alive, links[l].incarnations[0] == nodes[to].incarnation {
                    feed(.dialFailed(target), at: to)
                }
                return
            }
            ended(l, side: side)
        case .segment(let l, let sequence, let segment):
            let side = links[l].side(of: to)
            let current = side == 1 && links[l].ids[1] == nil ? nodes[to].incarnation : links[l].incarnations[side]
            guard nodes[to].alive, current == nodes[to].incarnation else {
                // A dead process's host resets whatever reaches its old connections (and refuses new ones).
                if case .fin = segment {} else { sim.send(.reset(link: l), from: to, to: from) }
                return
            }
            let batch = links[l].arrived(segment, sequence: sequence, at: side)
            // Reads paused (the consumer lags): segments wait in the node's inbox. A batch already read when reads
            // pause is delivered whole, as NIO delivers what one read returned.
            if readsHeld(at: to) { holdForReading(batch, on: l, at: side) } else {
                for ready in batch { deliver(ready, on: l, at: side) }
            }
        }
    }

    mutating func deliver(_ segment: Segment, on l: Int, at side: Int) {
        let node = links[l].nodes[side]
        if case .syn = segment { return accept(l) }
        if case .synAck = segment { return established(l) }
        guard links[l].open[side], let id = links[l].ids[side] else { return }
        switch segment {
        case .syn, .synAck: break
        case .hello(let peer, let evidenceGood):
            links[l].receivedHello[side] = peer
            links[l].helloEvidenceGood[side] = evidenceGood
            completeHandshake(l, side: side)
        case .verdict(let keep):
            if node != hostile { feed(.verdict(id, keep: keep), at: node) }
        case .frame(let envelope):
            if node == hostile { hostileReceived(envelope, on: l, side: side) } else {
                if node == traffic.pusher { pusherReceived(envelope, on: l, side: side) }
                if traffic.readsPaused[node] { traffic.framesReadWhilePaused[node] += 1 }
                feed(.received(id, envelope), at: node)
            }
        case .fin:
            ended(l, side: side)
        }
    }

    /// The listener accepts: the SYN-ACK leaves before anything its state sends.
    mutating func accept(_ l: Int) {
        let listener = links[l].nodes[1]
        guard links[l].ids[1] == nil, listener != hostile else {
            if listener == hostile { sim.send(.reset(link: l), from: listener, to: links[l].nodes[0]) }
            return
        }
        let id = newConnectionID()
        links[l].ids[1] = id
        links[l].incarnations[1] = nodes[listener].incarnation
        links[l].open[1] = true
        meshChanged = true
        linkOf[id] = l
        send(.synAck, on: l, from: 1)
        let source = hostileSources[l] ?? MeshSimulationKeys.host(links[l].nodes[0])
        feed(.inboundOpened(id, source: source), at: listener)
    }

    mutating func established(_ l: Int) {
        let dialer = links[l].nodes[0]
        guard !links[l].connectResolved else {
            // The dialer gave up on this connection: its kernel resets the late SYN-ACK.
            sim.send(.reset(link: l), from: dialer, to: links[l].nodes[1])
            return
        }
        links[l].connectResolved = true
        let id = newConnectionID()
        links[l].ids[0] = id
        links[l].open[0] = true
        meshChanged = true
        linkOf[id] = l
        if dialer == hostile { return hostileEstablished(l) }
        feed(.outboundOpened(id, target: links[l].target), at: dialer)
    }

    // MARK: Driver helpers

    func trace(_ action: MeshAction, at i: Int) {
        let link = action.connection.flatMap { linkOf[$0] }.map { " link \($0) \(links[$0].nodes)" } ?? ""
        switch action {
        case .send, .sendAddresses, .verifyAddresses: return
        case .report(let event): print("\(sim.now) node \(i): report \(event)")
        default: print("\(sim.now) node \(i): \(action)\(link)")
        }
    }

    /// Our own record at our address, then the ones we know (the driver signs ours with the wall clock).
    mutating func sendAddresses(_ known: [PeerAddressRecord], on id: ConnectionID, at i: Int) {
        var list = Darknode_V1_PeerAddressList()
        list.records = [MeshSimulationKeys.records[nodes[i].keyIndex][i].signed] + known.map(\.signed)
        guard let bytes: [UInt8] = try? list.serializedBytes() else { return }
        var actions: [MeshAction] = []
        let state = nodes[i].state!
        nodes[i].state!.enqueue(state.envelope(.peerAddresses, payload: bytes), on: id, into: &actions)
        perform(actions, at: i)
    }
}
