// Goal: with up to t malicious members every attack is caught, the culprit is named, and no invalid signature
// is ever released; with more than t silent, signing stops cleanly.
// Method: Byzantine behaviour is injected by rewriting a member's outgoing messages in the LocalNetwork (bad
// shares, inconsistent commitments, wrong product proofs, wrong openings, silence, equivocation); each run
// checks the misbehaviour every honest member reports, and that what comes out still verifies.
import SimulationSupport
import Testing
import TestSupport

@testable import MPC
@testable import Secp256k1

@Suite(.dedicatedThread) struct MaliciousPartyTests {
    /// Rewrites one payload kind of one member.
    static func rewrite(_ body: @escaping (MPCMessage) -> MPCPayload?) -> (MPCMessage) -> [MPCMessage] {
        { message in
            guard let payload = body(message) else { return [message] }
            return [MPCMessage(session: message.session, sender: message.sender, recipient: message.recipient,
                               round: message.round, payload: payload)]
        }
    }

    static func honestReports<S: MPCSession>(_ network: LocalNetwork<S>, honest: [Int]) -> [Set<Misbehaviour>] {
        honest.map { Set(network.sessions[$0].misbehaviour) }
    }

    static func silent(_ message: MPCMessage) -> [MPCMessage] { [] }

    // MARK: Key generation

    @Test func keygenBadShareIsProvenAndDisqualifiesDealer() throws {
        var rng = DeterministicRNG(seed: 20)
        let parameters = try CommitteeParameters(size: 7, threshold: 2)
        // Dealer 3 (slot 2) encrypts a bad share to member 5; member 5's complaint discloses that one key.
        let tamper: (PartyIndex, inout [VerifiableShare]) -> Void = { receiver, shares in
            if receiver == 5 { shares[0].value += .one }
        }
        let network = try MPCSimulation.generateKey(parameters: parameters, rng: &rng, dealingTampers: [2: tamper])
        let honest = [0, 1, 3, 4, 5, 6]
        for report in Self.honestReports(network, honest: honest) {
            #expect(report.contains(.invalidShares(culprit: 3, complainer: 5)))
            #expect(!report.contains { $0.culprit == 5 })
        }
        try Self.expectAgreedWorkingKey(network, honest: honest, t: 2, rng: &rng)
    }

    @Test func keygenFalseComplaintNamesTheComplainerAndKeepsTheDealer() throws {
        var rng = DeterministicRNG(seed: 21)
        let parameters = try CommitteeParameters(size: 4, threshold: 1)
        // Member 2 accuses honest dealer 1 with a disclosure whose proof does not verify.
        let behaviour = Self.rewrite { message in
            guard case .complaints = message.payload else { return nil }
            let bogus = EqualityProof(challenge: .one, response: .one)
            return .complaints([ShareDisclosure(dealer: 1, sharedPoint: Point.generator, proof: bogus)])
        }
        let network = try MPCSimulation.generateKey(parameters: parameters, rng: &rng, behaviours: [1: behaviour])
        for report in Self.honestReports(network, honest: [0, 2, 3]) {
            #expect(report.contains(.falseComplaint(culprit: 2, dealer: 1)))
            #expect(!report.contains { $0.culprit == 1 })
        }
        #expect(network.sessions.allSatisfy { $0.status == .finished })
        try Self.expectAgreedWorkingKey(network, honest: [0, 1, 2, 3], t: 1, rng: &rng)
    }

    @Test func keygenInconsistentFeldmanRevealIsRebuiltInPublic() throws {
        var rng = DeterministicRNG(seed: 22)
        let parameters = try CommitteeParameters(size: 7, threshold: 2)
        // Dealer 4 reveals Feldman values of a different polynomial (biasing X, if it were accepted).
        let behaviour = Self.rewrite { message in
            guard case .feldmanReveal(let points) = message.payload else { return nil }
            return .feldmanReveal([points[0] + Point.generator] + points.dropFirst())
        }
        let network = try MPCSimulation.generateKey(parameters: parameters, rng: &rng, behaviours: [3: behaviour])
        let honest = [0, 1, 2, 4, 5, 6]
        for report in Self.honestReports(network, honest: honest) {
            #expect(report.contains(.inconsistentFeldmanReveal(culprit: 4)))
        }
        try Self.expectAgreedWorkingKey(network, honest: honest + [3], t: 2, rng: &rng)
    }

    @Test func keygenEquivocationIsNamedAndExcluded() throws {
        var rng = DeterministicRNG(seed: 23)
        let parameters = try CommitteeParameters(size: 4, threshold: 1)
        let behaviour: (MPCMessage) -> [MPCMessage] = { message in
            guard case .dealing(let d) = message.payload else { return [message] }
            let c = d.commitments
            let other = Dealing(
                commitments: [[c[0][0] + Point.generator] + c[0].dropFirst()], ephemeralKey: d.ephemeralKey,
                ciphertexts: d.ciphertexts)
            return [message, MPCMessage(session: message.session, sender: message.sender, recipient: nil,
                                        round: message.round, payload: .dealing(other))]
        }
        let network = try MPCSimulation.generateKey(parameters: parameters, rng: &rng, behaviours: [1: behaviour])
        for report in Self.honestReports(network, honest: [0, 2, 3]) {
            #expect(report.contains(.equivocation(culprit: 2, round: 1)))
        }
        try Self.expectAgreedWorkingKey(network, honest: [0, 2, 3], t: 1, rng: &rng)
    }

    @Test func keygenSilentMembersAreExcluded() throws {
        var rng = DeterministicRNG(seed: 24)
        let parameters = try CommitteeParameters(size: 7, threshold: 2)
        let network = try MPCSimulation.generateKey(
            parameters: parameters, rng: &rng, behaviours: [0: Self.silent, 6: Self.silent])
        for report in Self.honestReports(network, honest: [1, 2, 3, 4, 5]) {
            #expect(report.contains(.silent(culprit: 1, round: 1)) && report.contains(.silent(culprit: 7, round: 1)))
        }
        let honest = [1, 2, 3, 4, 5]
        let keys = honest.compactMap { network.sessions[$0].keyShare?.publicData }
        #expect(keys.count == 5 && Set(keys.map(\.publicKey)).count == 1)
    }

    /// All listed members finished with one X, and the honest ones can presign and sign with it.
    static func expectAgreedWorkingKey(
        _ network: LocalNetwork<KeyGenerationSession>, honest: [Int], t: Int, rng: inout DeterministicRNG
    ) throws {
        let shares = network.sessions.compactMap(\.keyShare)
        try #require(shares.count == network.sessions.count)
        #expect(Set(shares.map(\.publicData.publicKey)).count == 1)
        var presign = try MPCSimulation.presign(keyShares: shares, count: 1, rng: &rng)
        var ledgers = shares.map { PresignatureLedger(epoch: $0.epoch) }
        var combiners = try Fixtures.sign(
            digests: [Fixtures.digest(0)], presign: &presign, signers: Array(0..<(2 * t + 1)), ledgers: &ledgers)
        let signatureCandidate = combiners[0].combine()
        let signature = try #require(signatureCandidate)
        try Fixtures.checkLocally(signature, key: shares[0].publicData)
    }

    // MARK: Presignatures

    @Test func wrongProductShareIsCaughtByProofAndNamed() throws {
        var rng = DeterministicRNG(seed: 30)
        let shares = try Fixtures.keyShares(t: 2, n: 7, rng: &rng)
        let behaviour = Self.rewrite { message in
            guard case .presignOpenings(let list) = message.payload else { return nil }
            return .presignOpenings(list.map { o in
                PresignOpening(
                    nonceBlinding: o.nonceBlinding,
                    maskedProduct: VerifiableShare(value: o.maskedProduct.value + .one, blinding: o.maskedProduct.blinding),
                    productCommitment: o.productCommitment, productProof: o.productProof,
                    keyProductCommitment: o.keyProductCommitment, keyProductProof: o.keyProductProof)
            })
        }
        var presign = try MPCSimulation.presign(keyShares: shares, count: 2, rng: &rng, behaviours: [4: behaviour])
        for report in Self.honestReports(presign, honest: [0, 1, 2, 3, 5, 6]) {
            #expect(report.contains(.invalidOpening(culprit: 5, instance: 0)))
        }
        try Self.expectSignatures(&presign, shares: shares, signers: [0, 1, 2, 3, 6])
    }

    @Test func forgedProductProofIsNamed() throws {
        var rng = DeterministicRNG(seed: 31)
        let shares = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        // Member 2 commits to a wrong product and opens consistently with it: only the proof can tell.
        let behaviour = Self.rewrite { message in
            guard case .presignOpenings(let list) = message.payload else { return nil }
            return .presignOpenings(list.map { o in
                PresignOpening(
                    nonceBlinding: o.nonceBlinding,
                    maskedProduct: VerifiableShare(value: o.maskedProduct.value + .one, blinding: o.maskedProduct.blinding),
                    productCommitment: o.productCommitment + Point.generator, productProof: o.productProof,
                    keyProductCommitment: o.keyProductCommitment, keyProductProof: o.keyProductProof)
            })
        }
        var presign = try MPCSimulation.presign(keyShares: shares, count: 1, rng: &rng, behaviours: [1: behaviour])
        for report in Self.honestReports(presign, honest: [0, 2, 3]) {
            #expect(report.contains(.invalidProductProof(culprit: 2, instance: 0)))
        }
        try Self.expectSignatures(&presign, shares: shares, signers: [0, 2, 3])
    }

    @Test func wrongNonceOpeningIsDecodedAroundAndNamed() throws {
        var rng = DeterministicRNG(seed: 32)
        let shares = try Fixtures.keyShares(t: 2, n: 7, rng: &rng)
        let behaviour = Self.rewrite { message in
            guard case .presignOpenings(let list) = message.payload else { return nil }
            return .presignOpenings(list.map { o in
                PresignOpening(
                    nonceBlinding: o.nonceBlinding + .one, maskedProduct: o.maskedProduct,
                    productCommitment: o.productCommitment, productProof: o.productProof,
                    keyProductCommitment: o.keyProductCommitment, keyProductProof: o.keyProductProof)
            })
        }
        var presign = try MPCSimulation.presign(
            keyShares: shares, count: 1, rng: &rng, behaviours: [1: behaviour, 5: behaviour])
        for report in Self.honestReports(presign, honest: [0, 2, 3, 4, 6]) {
            #expect(report.contains(.invalidOpening(culprit: 2, instance: 0)))
            #expect(report.contains(.invalidOpening(culprit: 6, instance: 0)))
        }
        try Self.expectSignatures(&presign, shares: shares, signers: [0, 2, 3, 4, 6])
    }

    @Test func badDealtSharesAndZeroSharingCommitmentsAreHandled() throws {
        var rng = DeterministicRNG(seed: 33)
        let shares = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        // Member 3 claims a zero sharing with a non-identity constant: publicly visible, dealer disqualified.
        let badCommitment = Self.rewrite { message in
            guard case .dealing(let d) = message.payload else { return nil }
            var vectors = d.commitments
            vectors[2][0] = Point.generator
            return .dealing(Dealing(commitments: vectors, ephemeralKey: d.ephemeralKey, ciphertexts: d.ciphertexts))
        }
        var presign = try MPCSimulation.presign(keyShares: shares, count: 1, rng: &rng, behaviours: [2: badCommitment])
        for report in Self.honestReports(presign, honest: [0, 1, 3]) {
            #expect(report.contains(.invalidCommitment(culprit: 3)))
        }
        try Self.expectSignatures(&presign, shares: shares, signers: [0, 1, 3])
    }

    @Test func silentMembersUpToTStillPresignAndSign() throws {
        var rng = DeterministicRNG(seed: 34)
        let shares = try Fixtures.keyShares(t: 2, n: 7, rng: &rng)
        var presign = try MPCSimulation.presign(
            keyShares: shares, count: 1, rng: &rng, behaviours: [1: Self.silent, 4: Self.silent])
        for report in Self.honestReports(presign, honest: [0, 2, 3, 5, 6]) {
            #expect(report.contains(.silent(culprit: 2, round: 1)))
        }
        try Self.expectSignatures(&presign, shares: shares, signers: [0, 2, 3, 5, 6])
    }

    // MARK: Signing

    @Test func badSignatureSharesAreNamedAndNeverReleased() throws {
        var rng = DeterministicRNG(seed: 40)
        let shares = try Fixtures.keyShares(t: 2, n: 7, rng: &rng)
        var presign = try MPCSimulation.presign(keyShares: shares, count: 1, rng: &rng)
        var ledgers = shares.map { PresignatureLedger(epoch: $0.epoch) }
        // Members 1 and 3 (slots 0, 2) send wrong shares; all 7 sign.
        var combiners = try Fixtures.sign(
            digests: [Fixtures.digest(9)], presign: &presign, signers: Array(0..<7), ledgers: &ledgers
        ) { slot, share in
            guard slot == 0 || slot == 2 else { return share }
            return SignatureShare(presignatureID: share.presignatureID, epoch: share.epoch, signer: share.signer,
                                  digest: share.digest, value: share.value + .one, blinding: share.blinding)
        }
        let signatureCandidate = combiners[0].combine()
        let signature = try #require(signatureCandidate)
        try Fixtures.checkLocally(signature, key: shares[0].publicData)
        #expect(Set(combiners[0].misbehaviour) == [.invalidSignatureShare(culprit: 1), .invalidSignatureShare(culprit: 3)])
    }

    @Test func lyingKeyProductCommitmentIsNamedAtSigning() throws {
        var rng = DeterministicRNG(seed: 41)
        let shares = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        // Member 2 publishes a P'_2 that does not commit to b_2·x_2. Presigning cannot see it (the proof is
        // only checked when a signature fails); signing does, and names member 2.
        let behaviour = Self.rewrite { message in
            guard case .presignOpenings(let list) = message.payload else { return nil }
            return .presignOpenings(list.map { o in
                PresignOpening(
                    nonceBlinding: o.nonceBlinding, maskedProduct: o.maskedProduct,
                    productCommitment: o.productCommitment, productProof: o.productProof,
                    keyProductCommitment: o.keyProductCommitment + Point.generator, keyProductProof: o.keyProductProof)
            })
        }
        var presign = try MPCSimulation.presign(keyShares: shares, count: 1, rng: &rng, behaviours: [1: behaviour])
        var ledgers = shares.map { PresignatureLedger(epoch: $0.epoch) }
        let p = presign.sessions[0].publicData[0]
        var combiners = try Fixtures.sign(
            digests: [Fixtures.digest(3)], presign: &presign, signers: [0, 1, 2, 3], ledgers: &ledgers
        ) { slot, share in
            guard slot == 1 else { return share }
            // Make the share fit the lying commitment: s + r·w⁻¹ (so that s·G moves by r·w⁻¹·G).
            return SignatureShare(presignatureID: share.presignatureID, epoch: share.epoch, signer: share.signer,
                                  digest: share.digest, value: share.value + p.r * p.wInverse, blinding: share.blinding)
        }
        let signatureCandidate = combiners[0].combine()
        let signature = try #require(signatureCandidate)
        try Fixtures.checkLocally(signature, key: shares[0].publicData)
        #expect(combiners[0].rejectedSigners == [2])
    }

    @Test func moreThanTSilentSignersStopsCleanly() throws {
        var rng = DeterministicRNG(seed: 42)
        let shares = try Fixtures.keyShares(t: 2, n: 7, rng: &rng)
        var presign = try MPCSimulation.presign(keyShares: shares, count: 1, rng: &rng)
        var ledgers = shares.map { PresignatureLedger(epoch: $0.epoch) }
        // Only 4 of the 2t + 1 = 5 needed shares arrive (3 > t members silent).
        var combiners = try Fixtures.sign(
            digests: [Fixtures.digest(4)], presign: &presign, signers: [0, 1, 2, 3], ledgers: &ledgers)
        let combined = combiners[0].combine()
        #expect(combined == nil)
        #expect(combiners[0].misbehaviour.isEmpty)
    }

    @Test func moreThanTBadSharesNeverYieldAnInvalidSignature() throws {
        var rng = DeterministicRNG(seed: 43)
        let shares = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        var presign = try MPCSimulation.presign(keyShares: shares, count: 1, rng: &rng)
        var ledgers = shares.map { PresignatureLedger(epoch: $0.epoch) }
        var combiners = try Fixtures.sign(
            digests: [Fixtures.digest(5)], presign: &presign, signers: [0, 1, 2, 3], ledgers: &ledgers
        ) { slot, share in
            guard slot < 2 else { return share }
            return SignatureShare(presignatureID: share.presignatureID, epoch: share.epoch, signer: share.signer,
                                  digest: share.digest, value: share.value * Scalar(3), blinding: share.blinding)
        }
        let combined = combiners[0].combine()
        #expect(combined == nil)
        #expect(combiners[0].rejectedSigners == [1, 2])
    }

    static func expectSignatures(_ presign: inout LocalNetwork<PresignSession>, shares: [KeyShare], signers: [Int]) throws {
        var ledgers = shares.map { PresignatureLedger(epoch: $0.epoch) }
        let count = presign.sessions[signers[0]].publicData.count
        try #require(count >= 1)
        var combiners = try Fixtures.sign(
            digests: (0..<count).map(Fixtures.digest), presign: &presign, signers: signers, ledgers: &ledgers)
        for k in combiners.indices {
            let signatureCandidate = combiners[k].combine()
            let signature = try #require(signatureCandidate)
            try Fixtures.checkLocally(signature, key: shares[0].publicData)
        }
    }
}
