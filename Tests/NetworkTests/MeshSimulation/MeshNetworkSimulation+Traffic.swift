import Crypto
import SimulationKit
import WireCodec

@testable import Network

/// Timers of the traffic scenarios.
enum TrafficTimer {
    /// The re-attestation scenario's node starts producing bad evidence.
    case turnBad
    /// Evidence for a challenge is ready (produced off the event loop, after a short while).
    case evidenceReady(ConnectionID, nonce: [UInt8], incarnation: UInt32)
    case originate(late: Bool)
    case pusherFlood
    case lagTraffic
    case consumerStops
    case consumerResumes
    case consumerTakes
    /// Reads resumed: the segments held while they were paused are delivered.
    case drainInbox(incarnation: UInt32)
}

/// What the traffic scenarios add to the driver and the controller.
struct TrafficState {
    /// The admission graph (gossip): node i admits exactly `neighbours[i]`. Nil: everyone admits every member.
    var neighbours: [Set<Int>]?
    /// Its diameter over the honest nodes (hops a gossip item may need).
    var diameter = 1
    var pusher: Int?
    var pusherFloodTarget: Int?
    var turnsBad: Int?
    var badSince: VirtualInstant?
    var lagging: Int?
    var consumerStopped = false
    var lagEnds: VirtualInstant?
    var lagRound = 0
    /// Per node: reads paused by the state, segments held meanwhile, events reported and not yet taken.
    var readsPaused: [Bool]
    var inbox: [[(link: Int, side: Int, segment: Segment)]]
    var consumerQueue: [[MeshEvent]]
    /// Events reported, and frames of a read batch delivered, since reads last paused.
    var reportedWhilePaused: [Int]
    var framesReadWhilePaused: [Int]
    /// Re-attestation: when each node last challenged each peer, and last answered on each connection.
    var lastChallenge: [[AnyHashable]: VirtualInstant] = [:]
    var lastAnswer: [[AnyHashable]: VirtualInstant] = [:]
    /// Gossip ground truth: every item originated, and per node (this incarnation) what it pulled, from whom,
    /// originated, had delivered, and which stored items were already checked.
    var items: [[UInt8]: (origin: Int, at: VirtualInstant, late: Bool)] = [:]
    var pulled: [[[UInt8]: PeerID]]
    var originated: [Set<[UInt8]>]
    var delivered: [[[UInt8]: VirtualInstant]]
    var checkedItems: [Set<[UInt8]>]
    /// Lagging consumer: messages sent (next sequence number by [from, to]) and taken ([to, from]).
    var sent: [[Int]: UInt32] = [:]
    var taken: [[Int]: UInt32] = [:]

    init(options: MeshSimulationOptions, nodeCount: Int, random: inout DeterministicRNG) {
        let n = options.honestCount
        readsPaused = Array(repeating: false, count: nodeCount)
        inbox = Array(repeating: [], count: nodeCount)
        consumerQueue = Array(repeating: [], count: nodeCount)
        reportedWhilePaused = Array(repeating: 0, count: nodeCount)
        framesReadWhilePaused = reportedWhilePaused
        pulled = Array(repeating: [:], count: nodeCount)
        originated = Array(repeating: [], count: nodeCount)
        delivered = pulled.map { _ in [:] }
        checkedItems = originated
        // Draw nothing unless a plan asks for it: the other scenarios replay as before.
        if options.reattestation?.turnsBad == true { turnsBad = random.index(n) }
        if options.lag != nil { lagging = random.index(n) }
        guard let gossip = options.gossip else { return }
        var graph = Array(repeating: Set<Int>(), count: nodeCount)
        func join(_ a: Int, _ b: Int) { graph[a].insert(b); graph[b].insert(a) }
        for i in 0..<n { join(i, (i + 1) % n) }
        if n > 4, random.chance(Ratio(1, 2)) { join(0, 2 + random.index(n - 3)) }
        if gossip.hostilePusher {
            // Two honest nodes apart on the ring, so its relays often beat the honest path. It floods only the
            // first with made-up hashes: the second's quota stays free for the real hashes it relays.
            pusher = n
            let first = random.index(n)
            join(n, first)
            join(n, (first + 2) % n)
            pusherFloodTarget = first
        }
        neighbours = graph
        diameter = (0..<n).map { Self.eccentricity(of: $0, in: graph, honest: n) }.max() ?? 1
    }

    /// The most hops from `start` to an honest node over honest nodes.
    static func eccentricity(of start: Int, in graph: [Set<Int>], honest n: Int) -> Int {
        var distance = [start: 0]
        var frontier = [start]
        while !frontier.isEmpty {
            frontier = frontier.flatMap { a in
                graph[a].filter { $0 < n && distance[$0] == nil }.map { b in
                    distance[b] = distance[a]! + 1
                    return b
                }
            }
        }
        return distance.values.max() ?? 0
    }

    func evidenceGood(_ i: Int) -> Bool { !(i == turnsBad && badSince != nil) }

    /// A process (re)started with fresh state: nothing held, waiting or known.
    mutating func restarted(_ i: Int) {
        readsPaused[i] = false
        inbox[i] = []
        consumerQueue[i] = []
        (reportedWhilePaused[i], framesReadWhilePaused[i]) = (0, 0)
        pulled[i] = [:]
        originated[i] = []
        delivered[i] = [:]
        checkedItems[i] = []
    }
}

extension MeshNetworkSimulation {
    func instant(_ time: VirtualInstant) -> ContinuousClock.Instant { origin + (time - .zero) }

    mutating func scheduleTraffic() {
        if traffic.turnsBad != nil, options.reattestation?.afterConvergence == false {
            let moment = random.duration(in: .seconds(1)...(options.faultPhase - .seconds(1)))
            sim.setTimer(.traffic(.turnBad), node: controller, after: moment)
        }
        if options.gossip != nil { sim.setTimer(.traffic(.originate(late: false)), node: controller, after: .milliseconds(100)) }
        if let pusher = traffic.pusher { sim.setTimer(.traffic(.pusherFlood), node: pusher, after: .milliseconds(100)) }
    }

    /// The mesh converged after the heal: late gossip items, the lagging consumer's traffic and pause.
    mutating func converged() {
        if traffic.turnsBad != nil, options.reattestation?.afterConvergence == true {
            sim.setTimer(.traffic(.turnBad), node: controller, after: .milliseconds(500))
        }
        if let gossip = options.gossip {
            for _ in 0..<gossip.lateItems {
                sim.setTimer(.traffic(.originate(late: true)), node: controller, after: random.duration(in: .zero...gossip.lateSpread))
            }
        }
        if let lag = options.lag {
            traffic.lagEnds = sim.now + lag.trafficDuration
            sim.setTimer(.traffic(.lagTraffic), node: controller, after: .milliseconds(20))
            sim.setTimer(.traffic(.consumerStops), node: controller, after: .milliseconds(100))
        }
    }

    mutating func firedTraffic(_ timer: TrafficTimer, at node: Int) {
        switch timer {
        case .turnBad:
            traffic.badSince = sim.now
            report.traffic.badAt = sim.now
        case .evidenceReady(let id, let nonce, let incarnation):
            guard nodes[node].alive, nodes[node].incarnation == incarnation, nodes[node].state != nil else { return }
            var response = Darknode_V1_AttestationResponse()
            response.nonce = .init(nonce)
            response.platform = "simulated"
            response.evidence = .init([traffic.evidenceGood(node) ? 1 : 0] + nodes[node].identity.bytes)
            guard let bytes: [UInt8] = try? response.serializedBytes() else { return }
            var actions: [MeshAction] = []
            let state = nodes[node].state!
            nodes[node].state!.enqueue(state.envelope(.attestationResponse, payload: bytes), on: id, into: &actions)
            touched.insert(node)
            perform(actions, at: node)
        case .originate(let late):
            if late || sim.now < healTime {
                let up = members.filter { nodes[$0].alive }
                if let i = up.randomElement(using: &random) { originate(at: i, late: late) }
            }
            if !late && sim.now < healTime {
                sim.setTimer(.traffic(timer), node: controller, after: random.duration(in: .milliseconds(50)...(.milliseconds(300))))
            }
        case .pusherFlood:
            pusherFlood()
            sim.setTimer(.traffic(timer), node: node, after: .milliseconds(100))
        case .lagTraffic:
            sendLagTraffic()
            if let end = traffic.lagEnds, sim.now < end { sim.setTimer(.traffic(timer), node: controller, after: options.lag!.sendInterval) }
        case .consumerStops:
            traffic.consumerStopped = true
            report.traffic.consumerStoppedAt = sim.now
            sim.setTimer(.traffic(.consumerResumes), node: controller, after: random.duration(in: options.lag!.pause))
        case .consumerResumes:
            traffic.consumerStopped = false
            report.traffic.consumerResumedAt = sim.now
            sim.setTimer(.traffic(.consumerTakes), node: traffic.lagging!, after: .zero)
        case .consumerTakes:
            consumerTakes()
        case .drainInbox(let incarnation):
            guard nodes[node].incarnation == incarnation else { return }
            while !traffic.readsPaused[node], !traffic.inbox[node].isEmpty {
                let held = traffic.inbox[node].removeFirst()
                deliver(held.segment, on: held.link, at: held.side)
            }
        }
    }

    /// The driver's part of re-attestation and of pausing reads.
    mutating func performTraffic(_ action: MeshAction, at i: Int) {
        switch action {
        case .setReadsPaused(let paused):
            traffic.readsPaused[i] = paused
            if paused {
                report.traffic.readPauses += 1
                (traffic.reportedWhilePaused[i], traffic.framesReadWhilePaused[i]) = (0, 0)
            } else if !traffic.inbox[i].isEmpty {
                sim.setTimer(.traffic(.drainInbox(incarnation: nodes[i].incarnation)), node: i, after: .zero)
            }
        case .answerChallenge(let id, let nonce):
            let key: [AnyHashable] = [i, nodes[i].incarnation, id]
            let spacing = min(options.limits.attestationAnswerInterval, options.limits.reattestationInterval / 2)
            if let last = traffic.lastAnswer[key], sim.now - last < spacing {
                violation("node \(i) answered a challenge on \(id) \(sim.now - last) after the last one (at most one per \(spacing))")
            }
            traffic.lastAnswer[key] = sim.now
            report.traffic.answers += 1
            let delay = random.duration(in: .milliseconds(1)...(.milliseconds(30)))
            sim.setTimer(.traffic(.evidenceReady(id, nonce: nonce, incarnation: nodes[i].incarnation)), node: i, after: delay)
        case .checkAttestation(let id, let peer, let platform, let evidence, let nonce):
            let good = platform == "simulated" && evidence.first == 1 && Array(evidence.dropFirst()) == peer.bytes
            if good { report.traffic.attestationsPassed += 1 } else { report.traffic.attestationsFailed += 1 }
            feed(.attestationChecked(id, nonce: nonce, failure: good ? nil : "evidence rejected"), at: i)
        default:
            break
        }
    }

    /// Reads are held at `node`: paused, or held segments still wait (they go first, in order).
    func readsHeld(at node: Int) -> Bool { traffic.readsPaused[node] || !traffic.inbox[node].isEmpty }

    /// Connection setup is the kernel's (it needs no read); everything else waits for reads to resume.
    mutating func holdForReading(_ batch: [Segment], on l: Int, at side: Int) {
        let node = links[l].nodes[side]
        for segment in batch {
            switch segment {
            case .syn, .synAck: deliver(segment, on: l, at: side)
            default: traffic.inbox[node].append((l, side, segment))
            }
        }
        report.traffic.maximumHeld = max(report.traffic.maximumHeld, traffic.inbox[node].count)
    }

    /// The state reported an event: the consumer takes it at once unless it lags (then it waits, in order).
    mutating func reported(_ event: MeshEvent, at i: Int) {
        observeReport(event, at: i)
        if traffic.readsPaused[i] { traffic.reportedWhilePaused[i] += 1 }
        if i == traffic.lagging, traffic.consumerStopped || !traffic.consumerQueue[i].isEmpty {
            traffic.consumerQueue[i].append(event)
            return
        }
        took(event, at: i)
        feed(.eventsTaken(count: 1, bytes: event.bufferedBytes), at: i)
    }

    /// The lagging consumer, resumed, takes a batch; more later while any wait.
    mutating func consumerTakes() {
        guard let i = traffic.lagging, !traffic.consumerStopped, nodes[i].state != nil else { return }
        let batch = traffic.consumerQueue[i].prefix(options.lag!.takeBatch)
        traffic.consumerQueue[i].removeFirst(batch.count)
        for event in batch { took(event, at: i) }
        if !batch.isEmpty { feed(.eventsTaken(count: batch.count, bytes: batch.map(\.bufferedBytes).reduce(0, +)), at: i) }
        if !traffic.consumerQueue[i].isEmpty { sim.setTimer(.traffic(.consumerTakes), node: i, after: options.lag!.takeInterval) }
    }

    mutating func originate(at i: Int, late: Bool) {
        report.traffic.originated += 1
        let content = Array("item \(report.traffic.originated) from node \(i)".utf8) + (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
        let hash = Array(SHA256.hash(data: content))
        traffic.items[hash] = (i, sim.now, late)
        traffic.originated[i].insert(hash)
        var actions: [MeshAction] = []
        nodes[i].state!.originate(content, hash: hash, topic: "sim", session: [], into: &actions)
        touched.insert(i)
        perform(actions, at: i)
    }
}
