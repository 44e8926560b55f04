import Consensus
import Testing
import TestSupport

/// The compact encoding: round trips, and typed rejection of every malformed input.
@Suite(.dedicatedThread) struct EncodingTests {
    let c = Committee(4)
    let v = TestApplication.value(1, 0)

    var samples: [SignedMessage] {
        [
            SignedMessage.sign(.proposal(Proposal(height: 1, round: 0, validRound: nil, value: v)), with: c.signers[1]),
            SignedMessage.sign(.proposal(Proposal(height: 9, round: 3, validRound: 2, value: Value([]))), with: c.signers[0]),
            SignedMessage.sign(prevote(5, v, h: 3), with: c.signers[2]),
            SignedMessage.sign(precommit(0, nil, h: 1 << 40), with: c.signers[3]),
        ]
    }

    @Test func roundTripAndVerify() throws {
        for m in samples {
            let decoded = try SignedMessage.decode(m.wireBytes[...])
            #expect(decoded == m)
            #expect(try c.validators.verify(decoded, with: Secp256k1Verifier()).validator == c.signers.firstIndex { $0.key == m.signer })
        }
    }

    @Test func voteLayoutIsFixed() {
        let m = SignedMessage.sign(precommit(1, v), with: c.signers[0])
        #expect(m.signedBytes.count == 80 && m.wireBytes.count == 144)
        #expect(Array(m.signedBytes.prefix(2)) == [1, MessageKind.precommit.rawValue])
    }

    @Test func everyTruncationIsRejected() {
        for m in samples {
            let wire = m.wireBytes
            for length in 0..<wire.count {
                #expect(throws: ConsensusError.self) { try SignedMessage.decode(wire[0..<length]) }
            }
        }
    }

    @Test func trailingBytesAreRejected() {
        #expect(throws: ConsensusError.trailingBytes(1)) { try SignedMessage.decode((samples[2].wireBytes + [0])[...]) }
    }

    @Test func headerFieldsAreChecked() {
        var wire = samples[2].wireBytes
        wire[0] = 2
        #expect(throws: ConsensusError.unknownVersion(2)) { try SignedMessage.decode(wire[...]) }
        wire = samples[2].wireBytes
        wire[1] = 9
        #expect(throws: ConsensusError.unknownKind(9)) { try SignedMessage.decode(wire[...]) }
        wire = samples[2].wireBytes
        for i in 2..<10 { wire[i] = 0 }
        #expect(throws: ConsensusError.invalidHeight) { try SignedMessage.decode(wire[...]) }
        wire = samples[2].wireBytes
        wire[14] = 7  // first byte of the signer key
        #expect(throws: ConsensusError.invalidSigner) { try SignedMessage.decode(wire[...]) }
        wire = samples[2].wireBytes
        wire[47] = 2  // hasValue flag
        #expect(throws: ConsensusError.invalidFlag(2)) { try SignedMessage.decode(wire[...]) }
    }

    @Test func validRoundMustBeBelowRound() {
        // Proposal at round 3 with valid round 2: patch the valid round (offset 48..<52) to 3.
        var wire = samples[1].wireBytes
        wire[51] = 3
        #expect(throws: ConsensusError.invalidRound) { try SignedMessage.decode(wire[...]) }
    }

    @Test func anyFlippedByteFailsDecodingOrVerification() {
        let m = samples[0]
        for i in 0..<m.wireBytes.count {
            var wire = m.wireBytes
            wire[i] ^= 0x01
            if let decoded = try? SignedMessage.decode(wire[...]) {
                #expect(throws: ConsensusError.self) { try c.validators.verify(decoded, with: Secp256k1Verifier()) }
            }
        }
    }

    @Test func unknownSignerIsRejected() {
        let outsider = Committee(1, seed: 99).signers[0]
        let m = SignedMessage.sign(prevote(0, nil), with: outsider)
        #expect(throws: ConsensusError.unknownSigner) { try c.validators.verify(m, with: Secp256k1Verifier()) }
    }

    @Test func certificateRoundTripAndChecks() throws {
        let precommits = (0..<3).map { SignedMessage.sign(precommit(2, v), with: c.signers[$0]) }
        let cert = CommitCertificate(height: 1, round: 2, value: v, precommits: precommits)
        let decoded = try CommitCertificate.decode(cert.encoded[...])
        #expect(decoded == cert)
        _ = try decoded.verify(against: c.validators, with: Secp256k1Verifier())
        let short = CommitCertificate(height: 1, round: 2, value: v, precommits: Array(precommits.prefix(2)))
        #expect(throws: ConsensusError.insufficientQuorum(have: 2, need: 3)) {
            try short.verify(against: c.validators, with: Secp256k1Verifier())
        }
        let duplicated = CommitCertificate(height: 1, round: 2, value: v, precommits: precommits.prefix(2) + [precommits[0]])
        #expect(throws: ConsensusError.inconsistentCertificate) {
            try duplicated.verify(against: c.validators, with: Secp256k1Verifier())
        }
        let wrongRound = CommitCertificate(height: 1, round: 1, value: v, precommits: precommits)
        #expect(throws: ConsensusError.inconsistentCertificate) {
            try wrongRound.verify(against: c.validators, with: Secp256k1Verifier())
        }
        let encoded = cert.encoded
        for length in stride(from: 0, to: encoded.count, by: 7) {
            #expect(throws: ConsensusError.self) { try CommitCertificate.decode(encoded[0..<length]) }
        }
        #expect(throws: ConsensusError.trailingBytes(1)) { try CommitCertificate.decode((encoded + [0])[...]) }
    }
}
