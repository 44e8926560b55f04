import Consensus
import Testing
import TestSupport

/// Evidence is made of the offender's own signed messages and checks out for anyone holding the validator set.
@Suite(.dedicatedThread) struct EvidenceTests {
    let c = Committee(4)
    let v = TestApplication.value(1, 0)
    let w = TestApplication.value(1, 0, "w")
    let verifier = Secp256k1Verifier()

    func check(_ e: Misbehaviour) throws {
        try e.verify(validators: c.validators, scheduler: RoundRobinScheduler(), with: verifier)
    }

    @Test func doubleProposeFromProcessVerifiesAndRoundTrips() throws {
        var p = c.process(0)
        _ = p.handle(.start)
        _ = p.handle(c.proposal(1, r: 0, v))
        let out = p.handle(c.proposal(1, r: 0, w))
        guard let e = out.evidence.first, case .doublePropose = e else {
            Issue.record("no double-propose evidence")
            return
        }
        try check(e)
        #expect(e.offender == c.signers[1].key)
        let decoded = try Misbehaviour.decode(e.encoded[...])
        #expect(decoded == e)
        try check(decoded)
    }

    @Test func doublePrecommitVerifies() throws {
        let a = SignedMessage.sign(precommit(0, v), with: c.signers[2])
        let b = SignedMessage.sign(precommit(0, nil), with: c.signers[2])
        try check(.doublePrecommit(a, b))
    }

    @Test func nonConflictsAreRejected() {
        let a = SignedMessage.sign(prevote(0, v), with: c.signers[2])
        let sameMessage = SignedMessage.sign(prevote(0, v), with: c.signers[2])
        let otherSigner = SignedMessage.sign(prevote(0, w), with: c.signers[3])
        let otherRound = SignedMessage.sign(prevote(1, w), with: c.signers[2])
        let precommitB = SignedMessage.sign(precommit(0, w), with: c.signers[2])
        for e: Misbehaviour in [.doublePrevote(a, sameMessage), .doublePrevote(a, otherSigner), .doublePrevote(a, otherRound),
                                .doublePrecommit(a, precommitB), .doublePrevote(a, precommitB)] {
            #expect(throws: ConsensusError.notMisbehaviour) { try check(e) }
        }
    }

    @Test func forgedSignatureIsRejected() throws {
        let a = SignedMessage.sign(prevote(0, v), with: c.signers[2])
        let b = SignedMessage.sign(prevote(0, w), with: c.signers[2])
        var wire = b.wireBytes
        wire[wire.count - 1] ^= 1
        let forged = try SignedMessage.decode(wire[...])
        #expect(throws: ConsensusError.badSignature) { try check(.doublePrevote(a, forged)) }
    }

    @Test func outOfTurnProposal() throws {
        let inTurn = SignedMessage.sign(.proposal(Proposal(height: 1, round: 0, validRound: nil, value: v)), with: c.signers[1])
        let outOfTurn = SignedMessage.sign(.proposal(Proposal(height: 1, round: 0, validRound: nil, value: v)), with: c.signers[2])
        try check(.outOfTurnPropose(outOfTurn))
        #expect(throws: ConsensusError.notMisbehaviour) { try check(.outOfTurnPropose(inTurn)) }
    }

    @Test func truncatedEvidenceIsRejected() {
        let a = SignedMessage.sign(prevote(0, v), with: c.signers[2])
        let b = SignedMessage.sign(prevote(0, w), with: c.signers[2])
        let bytes = Misbehaviour.doublePrevote(a, b).encoded
        for length in 0..<bytes.count {
            #expect(throws: ConsensusError.self) { try Misbehaviour.decode(bytes[0..<length]) }
        }
    }
}
