import Consensus
import Secp256k1
import SimulationSupport
import Testing
import TestSupport

/// What a hostile peer can make a replica hold: each test is an attack that grew the replica's memory, or cost
/// honest work, before the bound existed.
@Suite(.dedicatedThread) struct ReplicaBoundsTests {
    let c = Committee(4)
    /// A key outside the committee.
    let outsider = Committee(1, seed: 99).signers[0]

    func replica(_ i: Int = 0, bounds: ReplicaBounds = ReplicaBounds(), verifier: any MessageVerifier = Secp256k1Verifier())
        -> Replica<TestApplication>
    {
        var r = Replica(process: c.process(i), verifier: verifier, bounds: bounds)
        _ = r.start()
        return r
    }

    func wire(_ signer: Secp256k1Signer, _ m: ConsensusMessage) -> [UInt8] { SignedMessage.sign(m, with: signer).wireBytes }

    /// Goal: a key outside the validator set cannot fill the future-height queue (before: each fresh key got a
    /// queue of 1,000 messages, and keys are free). Method: an outsider sends 50 prevotes for height 2; none is
    /// kept and each is refused as an unknown signer. Once the driver announces a next set that contains the key,
    /// its message is kept.
    @Test func futureQueueRefusesNonMembers() {
        var r = replica()
        var effects: [ReplicaEffect] = []
        for round in Round(0)..<50 { effects += r.receive(wire(outsider, prevote(round, nil, h: 2))) }
        #expect(r.footprint.futureMessages == 0)
        #expect(effects.filter { $0 == .rejected(.unknownSigner) }.count == 50)

        let next = try! ValidatorSet(keys: c.validators.keys + [try! PublicKey(encoded: outsider.key.compressed)])
        r.nextValidators = next
        _ = r.receive(wire(outsider, prevote(0, nil, h: 2)))
        #expect(r.footprint.futureMessages == 1, "a member of the announced next set is buffered")
    }

    /// Goal: one sender gets one slot per (height, round, step) in the future queue (before: 20 conflicting
    /// prevotes for one slot took 20 entries, up to 1,000). Method: validator 1 sends 20 different prevotes for
    /// (h2, r0); one is kept.
    @Test func futureQueueKeepsOneMessagePerSlot() {
        var r = replica()
        for k in 0..<20 { _ = r.receive(wire(c.signers[1], prevote(0, TestApplication.value(2, 0, "\(k)"), h: 2))) }
        #expect(r.footprint.futureMessages == 1)
    }

    /// Goal: the bytes buffered for future heights are capped per sender and in total (before: only a count per
    /// sender, 1,000 × 1 MiB proposals each). Method: with caps of 10,000 bytes per sender and 25,000 in all, three
    /// validators each send ten 3,000-byte proposals for height 2; each sender stays within its cap and the total
    /// within the total; the earliest rounds are the ones kept.
    @Test func futureQueueBytesAreCappedPerSenderAndInTotal() {
        var r = replica(bounds: ReplicaBounds(senderQueueBytesMax: 10_000, futureQueueBytesMax: 25_000))
        func flood(_ i: Int) {
            for round in Round(0)..<10 {
                let p = ConsensusMessage.proposal(Proposal(height: 2, round: round, validRound: nil,
                                                           value: Value([UInt8](repeating: UInt8(i), count: 3_000))))
                _ = r.receive(wire(c.signers[i], p))
            }
        }
        flood(1)
        #expect(r.footprint.futureBytes <= 10_000)
        #expect(r.footprint.futureMessages == 3, "rounds 0, 1 and 2 fit in 10,000 bytes")
        flood(2)
        flood(3)
        #expect(r.footprint.futureBytes <= 25_000)
        #expect(r.footprint.futureMessages >= 6, "the total cap evicts from the largest queues, not everything")
    }

    /// Goal: forged packets (bad signature, or a non-member's key) never enter the duplicate-suppression memory
    /// (before: every packet of the current height went in before any check, raw bytes up to 1 MiB each, 65,536 of
    /// them). Method: 100 forged prevotes and 100 prevotes signed by an outsider; the seen set stays empty.
    @Test func forgedPacketsNeverEnterSeen() {
        var r = replica()
        for round in Round(0)..<100 {
            var forged = wire(c.signers[1], prevote(round, nil))
            forged[forged.count - 5] ^= 1
            _ = r.receive(forged)
            _ = r.receive(wire(outsider, prevote(round, nil)))
        }
        #expect(r.footprint.seenPackets == 0)
        // An authentic, stored packet is remembered.
        _ = r.receive(wire(c.signers[1], prevote(0, nil)))
        #expect(r.footprint.seenPackets == 1)
    }

    /// Goal: forged packets cannot evict authentic results from the verifier cache (before: failures were cached
    /// too, so a flood of forged bytes filled the cache, cleared it, and honest messages were verified again).
    /// Method: a cache of 4 entries; one honest message, ten forged ones, the honest one again: a hit.
    @Test func verifierCacheRemembersOnlyAuthenticResults() {
        let cache = CachingVerifier(entriesMax: 4)
        let key = c.validators.keys[1]
        let honest = SignedMessage.sign(prevote(0, nil), with: c.signers[1])
        #expect(cache.isAuthentic(honest, key: key))
        for round in Round(1)...10 {
            var bytes = SignedMessage.sign(prevote(round, nil), with: c.signers[1]).wireBytes
            bytes[bytes.count - 5] ^= 1
            #expect(!cache.isAuthentic(try! SignedMessage.decode(bytes[...]), key: key))
        }
        #expect(cache.verifications == 11)
        #expect(cache.isAuthentic(honest, key: key))
        #expect(cache.hits == 1 && cache.verifications == 11, "the honest result survived the forged flood")
    }

    /// Goal: a message is remembered as seen only once the process stored it, so resends of far-ahead messages
    /// count after the round skip they caused (before: the skip consumed them unstored, and their resends were
    /// dropped as duplicates for the rest of the height). Method: n = 4; validators 1 and 2 precommit nil in round
    /// R = roundsAheadStoredMax + 2 (f + 1 = 2: the replica skips to R); they resend the same bytes and validator 3
    /// precommits nil in R: three precommits in R are a quorum, so timeoutPrecommit(R) (L47) is scheduled.
    @Test func farAheadMessagesCountWhenResentAfterTheSkip() {
        var r = replica()
        let far = Limits.roundsAheadStoredMax + 2
        let p1 = wire(c.signers[1], precommit(far, nil))
        let p2 = wire(c.signers[2], precommit(far, nil))
        _ = r.receive(p1)
        _ = r.receive(p2)
        #expect(r.process.round == far)
        var effects = r.receive(p1) + r.receive(p2)
        effects += r.receive(wire(c.signers[3], precommit(far, nil)))
        #expect(effects.contains {
            if case .schedule(let t, _) = $0 { t == Timeout(step: .precommit, height: 1, round: far) } else { false }
        })
    }

    /// Goal: the commit-certificate answer for lagging peers is not an amplifier for outsiders (before: any key
    /// got the certificate, up to 1 MiB, for a 144-byte packet, once per key per tick, and keys are free). Method:
    /// a replica at height 2 holding the certificate of height 1; an outsider's height-1 packet gets nothing, a
    /// member's gets the certificate.
    @Test func certificatesAnswerOnlyMembers() {
        let value = TestApplication.value(1, 0)
        let precommits = (0..<3).map { SignedMessage.sign(precommit(0, value), with: c.signers[$0]) }
        let certificate = CommitCertificate(height: 1, round: 0, value: value, precommits: precommits)
        let process = ConsensusProcess(height: 2, validators: c.validators, signer: c.signers[0], app: TestApplication(),
                                       configuration: .init(timeouts: Committee.timeouts))
        var r = Replica(process: process, verifier: Secp256k1Verifier(), certificates: [certificate])
        _ = r.start()
        let sends: ([ReplicaEffect]) -> Int = { $0.filter { if case .send = $0 { true } else { false } }.count }
        #expect(sends(r.receive(wire(outsider, prevote(0, nil)))) == 0)
        #expect(sends(r.receive(wire(c.signers[3], prevote(0, nil)))) == 1)
    }
}
