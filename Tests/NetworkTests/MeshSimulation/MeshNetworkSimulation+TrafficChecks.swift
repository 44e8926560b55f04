import Crypto
import SimulationKit
import WireCodec

@testable import Network

/// The traffic scenarios' invariants, and the hostile pusher and the lagging consumer's senders.
extension MeshNetworkSimulation {
    // MARK: Watching the driver's actions

    /// An envelope a node sends: challenge spacing, pulls (ground truth for stored content). False: the hostile
    /// pusher never delivers content.
    mutating func observeSent(_ envelope: Darknode_V1_Envelope, on id: ConnectionID, at i: Int) -> Bool {
        let peer = nodes[i].state?.connections[id]?.peer?.identity
        switch envelope.kind {
        case .attestationChallenge:
            guard let peer else { break }
            report.traffic.challenges += 1
            let key: [AnyHashable] = [i, nodes[i].incarnation, peer]
            let interval = options.limits.reattestationInterval
            if let last = traffic.lastChallenge[key], sim.now - last < interval {
                violation("node \(i) challenged \(name(peer)) \(sim.now - last) after the last challenge (at most one per \(interval))")
            }
            traffic.lastChallenge[key] = sim.now
        case .gossipPull, .syncRequest:
            guard let peer else { break }
            let hash = [UInt8](envelope.contentHash)
            if let earlier = traffic.pulled[i][hash], earlier != peer { report.traffic.retriedPulls += 1 }
            traffic.pulled[i][hash] = peer
        case .gossipContent where i == traffic.pusher:
            return false
        default: break
        }
        return true
    }

    /// An event a node reports: gossip deliveries (each item once per node), evictions.
    mutating func observeReport(_ event: MeshEvent, at i: Int) {
        guard honest.contains(i) else { return }
        switch event {
        case .message(let m) where m.delivery == .gossip:
            let hash = Array(SHA256.hash(data: m.payload))
            guard traffic.items[hash] != nil else { return violation("node \(i) delivered gossip nobody originated") }
            if traffic.delivered[i][hash] != nil { violation("node \(i) delivered a gossip item twice") }
            traffic.delivered[i][hash] = sim.now
            report.traffic.gossipDeliveries += 1
        case .evicted(let peer, let reason) where reason.hasPrefix("re-attestation"):
            if let bad = traffic.turnsBad, peer == nodes[bad].identity {
                report.traffic.badEvictions += 1
                return
            }
            // After the heal nothing is lost: an honest peer fails re-attestation only on a link stalled before, or
            // one whose other end crashed with its host (silently).
            let link = nodes[i].state?.current[peer].flatMap { linkOf[$0] }
            if sim.now >= healTime, let link, links[link].stalled == [false, false], links[link].open == [true, true] {
                violation("node \(i) evicted honest \(name(peer)) after the heal: \(reason)")
            }
        default: break
        }
    }

    /// A node whose evidence is bad is never installed from a handshake that carried that evidence.
    mutating func checkInstall(_ id: ConnectionID, of peer: AuthenticatedPeer, at i: Int) {
        guard let bad = traffic.turnsBad, peer.identity == nodes[bad].identity, let l = linkOf[id] else { return }
        if !links[l].helloEvidenceGood[links[l].side(of: i)] { violation("node \(i) installed \(name(peer.identity)) on bad evidence") }
    }

    /// The consumer took an event: numbered messages arrive once each, in order per sender.
    mutating func took(_ event: MeshEvent, at i: Int) {
        guard case .message(let m) = event, m.topic == "lag", m.payload.count == 5 else { return }
        let from = Int(m.payload[0])
        let seq = m.payload[1...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let expected = traffic.taken[[i, from], default: 0]
        if seq != expected { violation("node \(i) took message \(seq) of node \(from), expected \(expected) (lost, duplicated or reordered)") }
        traffic.taken[[i, from]] = max(expected, seq + 1)
        report.traffic.messagesTaken += 1
    }

    // MARK: Invariants after every event

    mutating func checkTraffic(_ changed: Set<Int>) {
        let limits = options.limits
        for i in changed.sorted() where honest.contains(i) {
            guard let state = nodes[i].state else { continue }
            // The consumer's queue is what the state counts as waiting; beyond the buffer only what came while reads
            // were paused (the rest of the read batch in progress, and events not born of reading).
            let waiting = traffic.consumerQueue[i].count
            if state.events.waiting != waiting { violation("node \(i): the state counts \(state.events.waiting) events waiting, the consumer has \(waiting)") }
            let allowance = traffic.readsPaused[i] ? traffic.reportedWhilePaused[i] : 0
            report.traffic.maximumWaiting = max(report.traffic.maximumWaiting, waiting)
            report.traffic.maximumBeyondBuffer = max(report.traffic.maximumBeyondBuffer, waiting - limits.eventBufferMessages)
            report.traffic.maximumReadWhilePaused = max(report.traffic.maximumReadWhilePaused, traffic.framesReadWhilePaused[i])
            if waiting > limits.eventBufferMessages + allowance {
                violation("node \(i): \(waiting) events wait for the consumer (bound \(limits.eventBufferMessages) + \(allowance) reported while reads paused)")
            }
            guard options.gossip != nil else { continue }
            var pullsByPeer: [PeerID: Int] = [:]
            for pull in state.gossip.pending.values { pullsByPeer[pull.peer, default: 0] += 1 }
            report.traffic.maximumPullsPerPeer = max(report.traffic.maximumPullsPerPeer, pullsByPeer.values.max() ?? 0)
            if let (peer, count) = pullsByPeer.first(where: { $0.value > limits.pendingPullsPerPeer }) {
                violation("node \(i): \(count) pulls pending from \(name(peer)) (limit \(limits.pendingPullsPerPeer))")
            }
            if state.gossip.pending.count > limits.pendingPulls {
                violation("node \(i): \(state.gossip.pending.count) pulls pending (limit \(limits.pendingPulls))")
            }
            // Stored content: our own, or pulled and matching its hash.
            guard state.gossip.items.count != traffic.checkedItems[i].count else { continue }
            for (hash, item) in state.gossip.items where !traffic.checkedItems[i].contains(hash) {
                traffic.checkedItems[i].insert(hash)
                if traffic.originated[i].contains(hash) { continue }
                if traffic.pulled[i][hash] == nil { violation("node \(i) stored content it never pulled") }
                if Array(SHA256.hash(data: item.content)) != hash { violation("node \(i) stored content that does not match its hash") }
            }
        }
        guard let bad = traffic.turnsBad, let since = traffic.badSince else { return }
        for i in honest where i != bad {
            guard let id = nodes[i].state?.current[nodes[bad].identity],
                case .installed(let health) = nodes[i].state?.connections[id]?.phase
            else { continue }
            if now - max(instant(since), health.installedAt) > options.evictionBound {
                violation("node \(i) still has \(id) to node \(bad), whose evidence went bad at \(since) (bound \(options.evictionBound))")
            }
        }
    }

    /// End of run: every late item reached every member in time; every numbered message was taken.
    mutating func finishTraffic() {
        if options.gossip != nil {
            let bound = options.deliveryBound(diameter: traffic.diameter)
            let late = traffic.items.filter(\.value.late).sorted { ($0.value.at, $0.value.origin) < ($1.value.at, $1.value.origin) }
            for (hash, item) in late {
                for m in members where m != item.origin {
                    guard let at = traffic.delivered[m][hash] else {
                        violation("an item node \(item.origin) originated at \(item.at) never reached node \(m)")
                        continue
                    }
                    report.traffic.slowestDelivery = max(report.traffic.slowestDelivery, at - item.at)
                    if at - item.at > bound { violation("an item of node \(item.origin) reached node \(m) after \(at - item.at) (bound \(bound))") }
                }
            }
        }
        for (pair, count) in traffic.sent.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let taken = traffic.taken[[pair[1], pair[0]], default: 0]
            if taken != count { violation("node \(pair[1]) took \(taken) of the \(count) messages node \(pair[0]) sent it") }
        }
        if let i = traffic.lagging, !traffic.consumerQueue[i].isEmpty {
            violation("\(traffic.consumerQueue[i].count) events still wait at the lagging consumer at the end")
        }
    }

    // MARK: Hostile pusher

    /// Relays every push at once (so it is often the first pusher), without ever delivering.
    mutating func pusherReceived(_ envelope: Darknode_V1_Envelope, on l: Int, side: Int) {
        guard envelope.kind == .gossipPush, let pusher = traffic.pusher, let state = nodes[pusher].state else { return }
        for id in state.current.values.sorted() {
            guard let other = linkOf[id], other != l, links[other].open[links[other].side(of: pusher)] else { continue }
            send(.frame(envelope), on: other, from: links[other].side(of: pusher))
            report.traffic.hostilePushes += 1
        }
    }

    /// Pushes hashes nobody has (now and then a burst over the per-peer quota) and content nobody asked for.
    mutating func pusherFlood() {
        guard let pusher = traffic.pusher, let target = traffic.pusherFloodTarget, let state = nodes[pusher].state,
            let id = state.current[nodes[target].identity]
        else { return }
        do {
            guard let l = linkOf[id], links[l].open[links[l].side(of: pusher)] else { return }
            let side = links[l].side(of: pusher)
            let pushes = random.chance(Ratio(1, 10)) ? 2 * options.limits.pendingPullsPerPeer : 1
            for _ in 0..<pushes {
                let hash = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
                send(.frame(state.envelope(.gossipPush, topic: "sim", hash: hash)), on: l, from: side)
                report.traffic.hostilePushes += 1
            }
            if random.chance(Ratio(1, 4)) {
                let content = (0..<24).map { _ in UInt8.random(in: 0...255, using: &random) }
                let hash = Array(SHA256.hash(data: content))
                send(.frame(state.envelope(.gossipContent, payload: content, topic: "sim", hash: hash)), on: l, from: side)
            }
        }
    }

    // MARK: Lagging consumer's senders

    /// Every member sends the lagging node a numbered message, and each other member one each tenth round.
    mutating func sendLagTraffic() {
        guard let lagging = traffic.lagging else { return }
        traffic.lagRound += 1
        for from in members where nodes[from].state != nil {
            for to in members where to != from && (to == lagging || traffic.lagRound % 10 == 0) {
                let seq = traffic.sent[[from, to], default: 0]
                let payload = [UInt8(from)] + withUnsafeBytes(of: seq.bigEndian, Array.init)
                var actions: [MeshAction] = []
                let state = nodes[from].state!
                let envelope = state.envelope(.direct, payload: payload, topic: "lag")
                switch nodes[from].state!.enqueue(envelope, to: nodes[to].identity, into: &actions) {
                case .success: traffic.sent[[from, to]] = seq + 1
                case .failure(let error): violation("node \(from) could not send to node \(to): \(error)")
                }
                touched.insert(from)
                perform(actions, at: from)
            }
        }
    }
}

/// What the traffic scenarios did.
struct TrafficReport {
    var badAt: VirtualInstant?
    var challenges = 0
    var answers = 0
    var attestationsPassed = 0
    var attestationsFailed = 0
    var badEvictions = 0
    var originated = 0
    var gossipDeliveries = 0
    var retriedPulls = 0
    var hostilePushes = 0
    var maximumPullsPerPeer = 0
    var slowestDelivery: Duration = .zero
    var consumerStoppedAt: VirtualInstant?
    var consumerResumedAt: VirtualInstant?
    var readPauses = 0
    var maximumHeld = 0
    var maximumWaiting = 0
    var maximumBeyondBuffer = Int.min
    var maximumReadWhilePaused = 0
    var messagesTaken = 0

    func summary(_ options: MeshSimulationOptions) -> String? {
        var parts: [String] = []
        if options.reattestation != nil {
            parts.append("\(challenges) challenges, \(answers) answers, \(attestationsPassed) passed, \(attestationsFailed) failed,"
                + " bad at \(badAt.map { "\($0)" } ?? "-"), \(badEvictions) evictions of it")
        }
        if options.gossip != nil {
            parts.append("\(originated) items, \(gossipDeliveries) deliveries, slowest late one \(slowestDelivery), \(retriedPulls) pulls retried"
                + " from another pusher, \(hostilePushes) hostile pushes, at most \(maximumPullsPerPeer) pulls pending per peer")
        }
        if options.lag != nil {
            parts.append("consumer stopped \(consumerStoppedAt.map { "\($0)" } ?? "-")–\(consumerResumedAt.map { "\($0)" } ?? "-"),"
                + " \(readPauses) read pauses, at most \(maximumWaiting) events waiting (\(maximumBeyondBuffer) beyond the buffer),"
                + " \(maximumReadWhilePaused) frames read while paused, \(maximumHeld) segments held, \(messagesTaken) messages taken")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
