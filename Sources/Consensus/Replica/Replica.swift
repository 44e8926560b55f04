import Crypto
import Secp256k1

/// What a replica's driver must do, in order; `.persist` is durable before any later effect is carried out.
public enum ReplicaEffect: Hashable, Sendable {
    case persist(WALEntry)
    /// Send these wire bytes to every other validator.
    case broadcast([UInt8])
    /// Send these wire bytes to one validator (a commit certificate for a lagging peer).
    case send([UInt8], to: ValidatorKey)
    case schedule(Timeout, after: Duration)
    case commit(CommitCertificate)
    case evidence(Misbehaviour)
    /// A peer's packet was refused; for metrics and peer scoring.
    case rejected(ConsensusError)
}

/// The network-facing wrapper around a `ConsensusProcess`: it parses and verifies packets, suppresses duplicates,
/// buffers messages for future heights in bounded per-sender queues, answers lagging peers with commit
/// certificates, catches up from certificates itself, and resends while stuck. Pure like the process: the driver
/// calls `receive`, `timeout` and `tick` and carries out the returned effects.
public struct Replica<App: ConsensusApplication> {
    public private(set) var process: ConsensusProcess<App>
    private let verifier: any MessageVerifier
    /// Authentic messages of members for future heights (bounded per sender and in total; see
    /// `FutureMessageQueue`). Membership is checked again on delivery, since the set may change at a commit.
    private var futureMessages: FutureMessageQueue
    /// SHA-256 digests of packets handled at this height, for duplicate suppression. A digest goes in only after
    /// the packet's signature checked out and the process stored it (or the future queue holds it): forged bytes
    /// cannot fill it, and a message the process consumed without storing (one too many rounds ahead, counted for
    /// the round skip) still counts when a peer resends it after the skip.
    private var seen: Set<SHA256Digest> = []
    /// Our recent decisions, to help lagging peers.
    public private(set) var certificates: [Height: CommitCertificate] = [:]
    /// Peers answered with a certificate since the last tick (one answer per peer per tick).
    private var answeredThisTick: Set<ValidatorKey> = []
    /// Peers at our height but in an earlier round answered with that round's messages since the last tick.
    private var answeredRoundThisTick: Set<ValidatorKey> = []
    private var progressMark: ProgressMark?
    private let bounds: ReplicaBounds
    /// The validator set of the next height when the driver knows it ahead (an epoch change already decided by
    /// the application): its members' future-height messages are buffered too. Cleared once it is current.
    public var nextValidators: ValidatorSet?

    /// What the buffers hold now.
    public var footprint: ReplicaFootprint {
        ReplicaFootprint(futureMessages: futureMessages.count, futureBytes: futureMessages.bytes, seenPackets: seen.count)
    }

    private struct ProgressMark: Equatable {
        let height: Height
        let round: Round
        let step: Step
    }

    /// `certificates`: recent decisions from the application's store, so a restarted replica can still help peers.
    public init(process: ConsensusProcess<App>, verifier: any MessageVerifier, certificates: [CommitCertificate] = [],
                bounds: ReplicaBounds = ReplicaBounds()) {
        self.bounds = bounds
        self.futureMessages = FutureMessageQueue(bounds: bounds)
        self.process = process
        self.verifier = verifier
        for c in certificates.suffix(Limits.certificateHistoryMax) { self.certificates[c.height] = c }
    }

    public var height: Height { process.height }

    /// Lets the driver reach the application between events (add to its mempool, drain what it decided). The
    /// process never runs while `body` does, so the application sees no concurrent change.
    public mutating func withApplication<R, E: Error>(_ body: (inout App) throws(E) -> R) throws(E) -> R { try body(&process.app) }

    /// Starts (or, for a restored process, resumes) the process.
    public mutating func start() -> [ReplicaEffect] { run(.start) }

    public mutating func timeout(_ t: Timeout) -> [ReplicaEffect] { run(.timeout(t)) }

    /// Periodic gossip. If nothing moved since the last tick, resend the messages peers may lack (our own and the
    /// ones we relay). Also re-arms the one-certificate-per-peer budget.
    public mutating func tick() -> [ReplicaEffect] {
        answeredThisTick = []
        answeredRoundThisTick = []
        let mark = ProgressMark(height: process.height, round: process.round, step: process.step)
        defer { progressMark = mark }
        guard mark == progressMark else { return [] }
        return process.messagesForResend().map { .broadcast($0.wireBytes) }
    }

    /// Handles one packet from the network. Never throws: bad input becomes `.rejected`.
    public mutating func receive(_ packet: [UInt8]) -> [ReplicaEffect] {
        guard packet.count <= Limits.packetBytesMax else { return [.rejected(.oversize(packet.count))] }
        guard packet.count >= 10 else { return [.rejected(.truncated)] }
        if packet[1] == MessageKind.certificate.rawValue { return receiveCertificate(packet) }
        let claimedHeight = packet[2..<10].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if claimedHeight < process.height { return answerLaggingPeer(packet, height: claimedHeight) }
        guard claimedHeight <= process.height + Limits.futureHeightsMax else { return [] }
        // Before duplicate suppression: a peer stuck in an earlier round resends the same bytes every tick.
        let help = claimedHeight == process.height ? answerLaggingRound(packet) : []
        let digest = SHA256.hash(data: packet)
        guard !seen.contains(digest) else { return help }
        let message: SignedMessage
        do { message = try SignedMessage.decode(packet[...]) } catch { return help + [.rejected(error)] }
        if message.message.height == process.height {
            let verified: VerifiedMessage
            do { verified = try process.validators.verify(message, with: verifier) } catch { return help + [.rejected(error)] }
            let out = help + run(.message(verified))
            if process.height == message.message.height && process.holds(message) { remember(digest) }
            return out
        }
        // Only members of the current or announced next set may buffer: anyone else's keys are free to make.
        guard let key = memberKey(message.signer) else { return [.rejected(.unknownSigner)] }
        guard verifier.isAuthentic(message, key: key) else { return [.rejected(.badSignature)] }
        if futureMessages.insert(message, digest: digest) { remember(digest) }
        return []
    }

    // MARK: Private

    private mutating func run(_ event: ConsensusEvent) -> [ReplicaEffect] {
        let before = process.height
        var out = translate(process.handle(event))
        while process.height != before && flushFutureMessages(into: &out) {}
        if process.height != before, nextValidators == process.validators { nextValidators = nil }
        return out
    }

    private mutating func remember(_ digest: SHA256Digest) {
        if seen.count >= bounds.seenPacketsMax { seen.removeAll(keepingCapacity: true) }
        seen.insert(digest)
    }

    /// The key of `signer` if it is a member of the current or the announced next validator set.
    private func memberKey(_ signer: ValidatorKey) -> PublicKey? {
        if let i = process.validators.index(of: signer) { return process.validators.keys[i] }
        if let next = nextValidators, let i = next.index(of: signer) { return next.keys[i] }
        return nil
    }

    private mutating func translate(_ effects: [ConsensusEffect]) -> [ReplicaEffect] {
        effects.map { effect in
            switch effect {
            case .persist(let e): return .persist(e)
            case .broadcast(let m): return .broadcast(m.wireBytes)
            case .schedule(let t, let d): return .schedule(t, after: d)
            case .evidence(let e): return .evidence(e)
            case .commit(let c):
                certificates[c.height] = c
                if c.height > UInt64(Limits.certificateHistoryMax) {
                    certificates[c.height - UInt64(Limits.certificateHistoryMax)] = nil
                }
                return .commit(c)
            }
        }
    }

    /// Delivers buffered messages of the (new) current height and drops older ones. Returns true if the height
    /// moved again while delivering, so the caller flushes once more.
    private mutating func flushFutureMessages(into out: inout [ReplicaEffect]) -> Bool {
        seen.removeAll(keepingCapacity: true)
        let h = process.height
        for entry in futureMessages.take(height: h) {
            guard let i = process.validators.index(of: entry.message.signer) else { continue }
            out += translate(process.handle(.message(VerifiedMessage(signed: entry.message, validator: i))))
            if process.height != h { return true }
            if process.holds(entry.message) { remember(entry.digest) }
        }
        return false
    }

    private mutating func receiveCertificate(_ packet: [UInt8]) -> [ReplicaEffect] {
        let certificate: CommitCertificate
        do { certificate = try CommitCertificate.decode(packet[...]) } catch { return [.rejected(error)] }
        // Only a certificate for our height can be checked: later heights may have another validator set.
        guard certificate.height == process.height else { return [] }
        let verified: VerifiedCertificate
        do { verified = try certificate.verify(against: process.validators, with: verifier) } catch {
            return [.rejected(error)]
        }
        return run(.certificate(verified))
    }

    /// A peer sent a message of our height but an earlier round: send it what we hold for that round (CometBFT's
    /// vote gossip sends a peer the votes of the round it is in). Rounds move on through quorums and f+1 skips; a
    /// peer that missed messages of its round that only we can resend (ours, after a crash lost them in flight)
    /// would otherwise never leave it. One answer per peer per tick; only members' authentic messages are answered.
    private mutating func answerLaggingRound(_ packet: [UInt8]) -> [ReplicaEffect] {
        guard packet.count >= 14 else { return [] }
        let claimedRound = packet[10..<14].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard claimedRound < process.round, let message = try? SignedMessage.decode(packet[...]),
            !answeredRoundThisTick.contains(message.signer), message.signer != process.signerKey,
            (try? process.validators.verify(message, with: verifier)) != nil
        else { return [] }
        answeredRoundThisTick.insert(message.signer)
        return process.messages(inEarlierRound: claimedRound).map { .send($0.wireBytes, to: message.signer) }
    }

    /// A peer sent a message for a height we have decided: send it the certificate so it can catch up.
    private mutating func answerLaggingPeer(_ packet: [UInt8], height: Height) -> [ReplicaEffect] {
        guard let certificate = certificates[height] else { return [] }
        let message: SignedMessage
        do { message = try SignedMessage.decode(packet[...]) } catch { return [.rejected(error)] }
        guard !answeredThisTick.contains(message.signer) else { return [] }
        // Members, current or of that height's certificate, only: the answer is large and keys are free to make.
        let signerKey = memberKey(message.signer)
            ?? certificate.precommits.first { $0.signer == message.signer }.flatMap { try? PublicKey(encoded: $0.signer.compressed) }
        guard let key = signerKey else { return [.rejected(.unknownSigner)] }
        guard verifier.isAuthentic(message, key: key) else { return [.rejected(.badSignature)] }
        answeredThisTick.insert(message.signer)
        return [.send(certificate.encoded, to: message.signer)]
    }
}
