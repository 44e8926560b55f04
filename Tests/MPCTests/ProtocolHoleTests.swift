// Goal: the four protocol holes of issue 14 stay closed.
// 1. A member whose shares arrive late complains; nothing on the wire may then carry its shares in the clear.
// 2. Once QUAL is fixed, a dealer cannot change X by misbehaving later (no 2^t choice of keys).
// 3. Cancelling errors (+δ/−δ from two corrupt dealers, one of which then leaves QUAL) never blame an honest
//    member and never yield a batch whose signatures fail without a culprit.
// 4. Rounds close at an agreed point: members whose clocks disagree still agree on QUAL (the same X).
// Method: whole committees over the in-process network (or a skewed-clock driver), Byzantine members injected
// by rewriting their messages; assertions are on what honest members output and report.
import SimulationSupport
import Testing
import TestSupport

@testable import MPC
@testable import Secp256k1

/// Every Scalar and byte string inside a value (walked by reflection), so a test can look for a secret on the
/// wire whatever message type carries it.
func wireScalars(in value: Any) -> (scalars: [Scalar], bytes: [[UInt8]]) {
    var scalars: [Scalar] = []
    var bytes: [[UInt8]] = []
    func walk(_ v: Any) {
        if let s = v as? Scalar {
            scalars.append(s)
            return
        }
        if let b = v as? [UInt8] {
            bytes.append(b)
            return
        }
        if v is Point { return }
        for child in Mirror(reflecting: v).children { walk(child.value) }
    }
    walk(value)
    return (scalars, bytes)
}

/// Whether `secret` appears in `message` as a scalar or as its 32-byte encoding inside any byte string.
func wireCarries(_ message: MPCMessage, secret: Scalar) -> Bool {
    let found = wireScalars(in: message.payload)
    if found.scalars.contains(secret) { return true }
    let needle = secret.bytes
    return found.bytes.contains { haystack in
        haystack.count >= needle.count
            && (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}

final class Tap<T> {
    var items: [T] = []
}

@Suite(.dedicatedThread) struct ProtocolHoleTests {
    // MARK: Hole 1

    /// Member 5 reads the broadcast 12 s late (past the 5 s round timeout), so the others close rounds without
    /// it. (On the old code its direct shares were dropped instead: it complained, and every dealer's public
    /// answer carried its shares in the clear.)
    @Test(arguments: ["keygen", "presign", "reshare"])
    func lateMemberSharesNeverAppearInTheClear(protocolName: String) throws {
        var rng = DeterministicRNG(seed: 1401)
        let parameters = try CommitteeParameters(size: 7, threshold: 2)
        let late = 5
        let clocks = [late - 1: NodeClock(lag: .seconds(12))]
        let transcript: [MPCMessage]
        let lateShares: [Scalar]
        switch protocolName {
        case "keygen":
            let network = try MPCSimulation.generateKey(parameters: parameters, rng: &rng, clocks: clocks)
            let keys = network.sessions.compactMap { $0.keyShare?.publicData.publicKey }
            #expect(keys.count == 7 && Set(keys).count == 1, "the late member did not end with the same key")
            transcript = network.transcript
            // Member 5's own Feldman reveal is late too, so GJKR rebuilds its polynomial in public (every f_5(j),
            // f_5(5) included, is published by design). Every other dealer's share to it must stay secret: they
            // keep x_5 = Σ_d f_d(5) hidden.
            lateShares = network.sessions[late - 1].receivedSharesForTesting.filter { $0.key != late }.values
                .flatMap { $0.flatMap { [$0.value, $0.blinding] } }
        case "presign":
            let shares = try Fixtures.keyShares(t: 2, n: 7, rng: &rng)
            let network = try MPCSimulation.presign(keyShares: shares, count: 1, rng: &rng, clocks: clocks)
            #expect(network.sessions.allSatisfy { $0.status == .finished })
            transcript = network.transcript
            lateShares = network.sessions[late - 1].receivedSharesForTesting.values.flatMap { $0.flatMap { [$0.value, $0.blinding] } }
        default:
            let shares = try Fixtures.keyShares(t: 2, n: 7, rng: &rng)
            // Slots 0…6 are the old committee, 7…13 the new one; new member 5 is slot 11.
            let network = try MPCSimulation.reshare(
                oldShares: shares, newParameters: parameters, rng: &rng, clocks: [7 + late - 1: NodeClock(lag: .seconds(12))])
            #expect(network.sessions[7 + late - 1].newKeyShare != nil)
            transcript = network.transcript
            lateShares = network.sessions[7 + late - 1].receivedSharesForTesting.values.flatMap { $0.map(\.value) }
        }
        try #require(lateShares.count >= 6)
        for message in transcript {
            for secret in lateShares {
                #expect(!wireCarries(message, secret: secret), "round \(message.round) from \(message.sender) carries a share of member \(late)")
            }
        }
    }

    // MARK: Hole 2

    /// Dealer 4 behaves until QUAL is fixed and then, in a run of its choosing, misbehaves: it equivocates its
    /// reveal complaints (after every Feldman value is public), equivocates its Feldman reveal, or withholds it.
    /// X must be the same as in the run where it behaves. (On the old code the first toggle removed it from QUAL
    /// and gave a different X.)
    @Test(arguments: ["equivocateRevealComplaints", "equivocateReveal", "withholdReveal"])
    func lateEquivocationCannotChangeTheKey(toggle: String) throws {
        let parameters = try CommitteeParameters(size: 7, threshold: 2)
        func run(misbehave: Bool) throws -> Point {
            var rng = DeterministicRNG(seed: 1402)
            let behaviour: (MPCMessage) -> [MPCMessage] = { message in
                guard misbehave else { return [message] }
                switch (toggle, message.payload) {
                case ("equivocateRevealComplaints", .revealComplaints):
                    let other = MPCMessage(
                        session: message.session, sender: message.sender, recipient: nil, round: message.round,
                        payload: .revealComplaints([RevealComplaint(dealer: 1, share: VerifiableShare(value: .one))]))
                    return [message, other]
                case ("equivocateReveal", .feldmanReveal(let points)):
                    let other = MPCMessage(
                        session: message.session, sender: message.sender, recipient: nil, round: message.round,
                        payload: .feldmanReveal([points[0] + Point.generator] + points.dropFirst()))
                    return [message, other]
                case ("withholdReveal", .feldmanReveal):
                    return []
                default:
                    return [message]
                }
            }
            let network = try MPCSimulation.generateKey(parameters: parameters, rng: &rng, behaviours: [3: behaviour])
            let keys = [0, 1, 2, 4, 5, 6].compactMap { network.sessions[$0].keyShare?.publicData.publicKey }
            try #require(keys.count == 6)
            #expect(Set(keys).count == 1)
            // The misbehaviour was seen (so the run really took the late path) and named.
            let named = network.sessions[0].misbehaviour.contains { $0.culprit == 4 }
            #expect(named == misbehave)
            return keys[0]
        }
        let honest = try run(misbehave: false)
        let toggled = try run(misbehave: true)
        #expect(honest == toggled, "the adversary chose between two keys")
    }

    // MARK: Hole 3

    @Test func cancellingDealerErrorsNeverBlameHonestMembers() throws {
        var rng = DeterministicRNG(seed: 1403)
        let shares = try Fixtures.keyShares(t: 2, n: 7, rng: &rng)
        let delta = Scalar(12345)
        let honestMembers = 1...5
        // Dealers 6 and 7 shift every honest member's share of [k] by +δ and −δ (the sum still checks); dealer 6
        // also deals member 7 a bad share, so 7's (proven) complaint removes 6 from QUAL after the check.
        let six: (PartyIndex, inout [VerifiableShare]) -> Void = { receiver, s in
            if honestMembers.contains(receiver) { s[0].value += delta }
            if receiver == 7 { s[0].value += .one }
        }
        let seven: (PartyIndex, inout [VerifiableShare]) -> Void = { receiver, s in
            if honestMembers.contains(receiver) { s[0].value -= delta }
        }
        var presign = try MPCSimulation.presign(
            keyShares: shares, count: 1, rng: &rng, dealingTampers: [5: six, 6: seven])
        let honest = [0, 1, 2, 3, 4]
        for slot in honest {
            let blamed = presign.sessions[slot].misbehaviour.filter { honestMembers.contains($0.culprit) }
            #expect(blamed.isEmpty, "member \(slot + 1) blamed honest members: \(blamed)")
        }
        if honest.allSatisfy({ presign.sessions[$0].status == .finished }) {
            var ledgers = shares.map { PresignatureLedger(epoch: $0.epoch) }
            var combiners = try Fixtures.sign(
                digests: [Fixtures.digest(0)], presign: &presign, signers: honest, ledgers: &ledgers)
            let signature = combiners[0].combine()
            #expect(signature != nil, "a finished presignature did not sign; blamed \(combiners[0].misbehaviour)")
            #expect(combiners[0].misbehaviour.isEmpty)
        } else {
            for slot in honest {
                let named = presign.sessions[slot].misbehaviour.map(\.culprit)
                #expect(named.contains(6) || named.contains(7), "aborted without naming a corrupt dealer")
                #expect(presign.sessions[slot].status == .failed(.aborted(culprits: [7])))
            }
        }
    }

    // MARK: Hole 4

    /// Member 1 starts 0.5 s before members 2 and 3 (their clocks disagree by that much) and member 4 deals
    /// at 5.2 s, after member 1's round timer fired and before the others' did. (On the old code member 1 closed
    /// round 1 on its own timer without dealer 4, the others with it: two different X.)
    @Test(arguments: [0, 400_000])
    func skewedClocksStillAgreeOnQual(driftPPM: Int) throws {
        var rng = DeterministicRNG(seed: 1404)
        let parameters = try CommitteeParameters(size: 4, threshold: 1)
        let clocks = [
            0: NodeClock(driftPPM: driftPPM), 1: NodeClock(startDelay: .milliseconds(500)),
            2: NodeClock(startDelay: .milliseconds(500), driftPPM: -driftPPM / 2), 3: NodeClock(startDelay: .milliseconds(5200)),
        ]
        let network = try MPCSimulation.generateKey(parameters: parameters, rng: &rng, clocks: clocks)
        let keys = [0, 1, 2].map { network.sessions[$0].keyShare?.publicData.publicKey }
        #expect(keys.allSatisfy { $0 != nil }, "an honest member did not finish")
        #expect(Set(keys.compactMap { $0 }).count == 1, "honest members disagree on QUAL, hence on X")
        let quals = [0, 1, 2].map { network.sessions[$0].qualifiedForTesting }
        #expect(Set(quals).count == 1)
    }

    /// A member whose own complaint lands after the agreed close fails with a typed error instead of trapping.
    @Test func memberWhoseComplaintMissedTheCloseFailsCleanly() throws {
        var rng = DeterministicRNG(seed: 1405)
        let parameters = try CommitteeParameters(size: 4, threshold: 1)
        // Dealer 2 deals member 4 a bad share; member 4 reads the broadcast 12 s late, so its complaint misses
        // round 2, which the others close on their votes at 5 s.
        let tamper: (PartyIndex, inout [VerifiableShare]) -> Void = { receiver, s in
            if receiver == 4 { s[0].value += .one }
        }
        let network = try MPCSimulation.generateKey(
            parameters: parameters, rng: &rng, clocks: [3: NodeClock(lag: .seconds(12))], dealingTampers: [1: tamper])
        #expect(network.sessions[3].status == .failed(.missingShare(dealer: 2)))
        let keys = [0, 1, 2].compactMap { network.sessions[$0].keyShare?.publicData.publicKey }
        #expect(keys.count == 3 && Set(keys).count == 1)
    }

    /// GJKR's complaint rules (item 8): a complaint whose disclosed shares are fine names the complainer; more
    /// than t proven complaints disqualify the dealer.
    @Test func falseComplainersAreNamedAndMoreThanTComplaintsDisqualify() throws {
        var rng = DeterministicRNG(seed: 1406)
        let t = 1, members = Array(1...4)
        let session = SessionID(purpose: "test", epoch: 0, label: "complaints")
        let ids = members.map { _ in MemberIdentity.random(using: &rng) }
        let spec = SharingSpec(degree: t, hiding: true, zeroConstant: false)
        let dealt = DealingPhase.deal(
            session: session, dealer: 1, specs: [spec], secrets: [.one], receivers: members,
            receiverKeys: ids.map(\.publicKey), using: &rng)
        var phases = try members.map { me in
            try DealingPhase(
                session: session, specs: [spec], dealers: [1], receivers: members, receiverKeys: ids.map(\.publicKey),
                me: me, identity: ids[me - 1], faultyMax: t)
        }
        for i in phases.indices { #expect(phases[i].acceptDealing(from: 1, dealt.dealing) == nil) }
        #expect(phases[1].badDealers(optimistic: false).isEmpty)
        // Members 2 and 3 complain anyway, with valid disclosures: the shares they reveal are correct.
        let fromTwo = phases[1].disclosures(against: [1], using: &rng)
        let fromThree = phases[2].disclosures(against: [1], using: &rng)
        var judge = phases[3]
        #expect(judge.acceptComplaints(from: 2, fromTwo) == [.falseComplaint(culprit: 2, dealer: 1)])
        #expect(judge.qualified == [1])
        #expect(
            judge.acceptComplaints(from: 3, fromThree)
                == [.falseComplaint(culprit: 3, dealer: 1), .tooManyComplaints(culprit: 1)])
        #expect(judge.qualified.isEmpty)
        // A disclosure of another member's key (a proof for the wrong identity) is refused as false.
        var other = phases[0]
        #expect(other.acceptComplaints(from: 4, fromTwo) == [.falseComplaint(culprit: 4, dealer: 1)])
        #expect(other.qualified == [1])
    }
}
