/// Decides whom to dial and when. Targets are identities from the address book (each pair is dialled by its
/// smaller identity) and the configured bootstrap addresses; a bootstrap address counts as connected once the
/// identity behind it is. Each target has its own back-off: it grows on every attempt that does not give a new
/// connection (TCP failure, failed handshake, refusal, or a duplicate the decider dropped) and on a connection
/// that ends within `reconnectMaximum`, and is forgotten once a connection to the target has lasted that long, so
/// a flapping peer is redialled ever more slowly and a stable one at once.
struct DialPlanner: Sendable {
    struct Entry: Sendable {
        var backoff: Backoff
        var notBefore: ContinuousClock.Instant?
        var connectedSince: ContinuousClock.Instant?
    }

    let bootstrap: [(host: String, port: Int)]
    private(set) var entries: [DialTarget: Entry] = [:]
    private(set) var dialing: Set<DialTarget> = []
    /// The identity behind each bootstrap address, learnt from its handshake.
    private(set) var learned: [DialTarget: PeerID] = [:]
    let limits: NetworkLimits

    init(bootstrap: [(host: String, port: Int)], limits: NetworkLimits) {
        self.bootstrap = bootstrap
        self.limits = limits
    }

    private func fresh() -> Entry {
        Entry(
            backoff: Backoff(initial: limits.reconnectInitial, maximum: limits.reconnectMaximum, jitter: limits.reconnectJitter))
    }

    /// Targets to dial now: not connected (by identity), not being dialled, and past their back-off.
    mutating func due(
        now: ContinuousClock.Instant, me: PeerID, book: PeerTable, admitted: Set<PeerID>,
        isConnected: (PeerID) -> Bool
    ) -> [(target: DialTarget, host: String, port: Int)] {
        var candidates: [(DialTarget, String, Int)] = bootstrap.map { (.bootstrap(host: $0.host, port: $0.port), $0.host, $0.port) }
        // In identity order: the same inputs give the same dials in the same order (a seeded run replays).
        for (peer, record) in book.records.sorted(by: { $0.key < $1.key }) where admitted.contains(peer) && me < peer {
            candidates.append((.peer(peer), record.host, Int(record.port)))
        }
        var result: [(target: DialTarget, host: String, port: Int)] = []
        var chosen: Set<PeerID> = []
        for (target, host, port) in candidates {
            let identity: PeerID? = if case .peer(let p) = target { p } else { learned[target] }
            if let identity, isConnected(identity) || chosen.contains(identity) { continue }
            if dialing.contains(target) { continue }
            if let notBefore = entries[target]?.notBefore, notBefore > now { continue }
            dialing.insert(target)
            if let identity { chosen.insert(identity) }
            result.append((target, host, port))
        }
        return result
    }

    /// An attempt for `target` ended without a new connection; the next waits longer.
    mutating func failed(_ target: DialTarget, now: ContinuousClock.Instant, random: inout some RandomNumberGenerator) {
        guard dialing.remove(target) != nil else { return }
        delay(target, now: now, random: &random)
    }

    /// A connection dialled for `target` authenticated `peer`: a bootstrap address is that identity from now on,
    /// whether or not the connection is kept (a dropped duplicate proves it as well), so it is not redialled while
    /// the identity is connected through a connection the other side dialled.
    mutating func authenticated(_ target: DialTarget, peer: PeerID) {
        if case .bootstrap = target { learned[target] = peer }
    }

    /// A connection dialled for `target` was installed with `peer`.
    mutating func connected(_ target: DialTarget, peer: PeerID, now: ContinuousClock.Instant) {
        dialing.remove(target)
        if case .bootstrap = target { learned[target] = peer }
        var entry = entries[target] ?? fresh()
        entry.connectedSince = now
        entries[target] = entry
    }

    /// The connection to `peer` ended: its targets are redialled after their back-off, unless it had lasted.
    mutating func disconnected(_ peer: PeerID, now: ContinuousClock.Instant, random: inout some RandomNumberGenerator) {
        for target in targets(of: peer) {
            guard var entry = entries[target], entry.connectedSince != nil else { continue }
            entry.connectedSince = nil
            entries[target] = entry
            delay(target, now: now, random: &random)
        }
    }

    /// Forgets the back-off of targets connected for `reconnectMaximum`.
    mutating func decay(now: ContinuousClock.Instant) {
        for (target, entry) in entries {
            if let since = entry.connectedSince, now - since >= limits.reconnectMaximum { entries[target] = nil }
        }
    }

    /// Drops what the planner knows of peers no longer admitted (their records left the address book too).
    mutating func retain(admitted: Set<PeerID>) {
        for target in entries.keys where !isAdmitted(target, admitted) { entries[target] = nil }
        learned = learned.filter { admitted.contains($0.value) }
    }

    private func isAdmitted(_ target: DialTarget, _ admitted: Set<PeerID>) -> Bool {
        if case .peer(let p) = target { admitted.contains(p) } else { true }
    }

    private func targets(of peer: PeerID) -> [DialTarget] {
        [.peer(peer)] + learned.filter { $0.value == peer }.map(\.key)
    }

    private mutating func delay(_ target: DialTarget, now: ContinuousClock.Instant, random: inout some RandomNumberGenerator) {
        var entry = entries[target] ?? fresh()
        entry.notBefore = now + entry.backoff.nextDelay(using: &random)
        entries[target] = entry
    }
}
