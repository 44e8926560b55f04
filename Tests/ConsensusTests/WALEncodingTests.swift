import Secp256k1
import Testing
import TestSupport

@testable import Consensus

/// The WAL's byte form: what the node seals to disk must come back as the same entries, and damaged bytes must be
/// refused with a typed error.
@Suite(.dedicatedThread) struct WALEncodingTests {
    @Test func everyEntryKindRoundTrips() throws {
        let signer = Secp256k1Signer(privateKey: try PrivateKey(bytes: [UInt8](repeating: 7, count: 32)))
        let value = Value(Array("block".utf8))
        let prevote = SignedMessage.sign(.vote(Vote(step: .prevote, height: 3, round: 1, valueID: value.id)), with: signer)
        let proposal = SignedMessage.sign(.proposal(Proposal(height: 3, round: 1, validRound: 0, value: value)), with: signer)
        let entries: [WALEntry] = [
            .signed(prevote), .signed(proposal),
            .locked(height: 3, RoundValue(value: value, round: 1)),
            .valid(height: 3, RoundValue(value: value, round: 2)),
            .polka(height: 3, round: 1, prevotes: [prevote]),
        ]
        for e in entries {
            let bytes = e.encoded
            #expect(try WALEntry.decode(bytes) == e)
            #expect(throws: ConsensusError.trailingBytes(1)) { try WALEntry.decode(bytes + [0]) }
            for cut in 0..<bytes.count { #expect(throws: ConsensusError.self) { try WALEntry.decode(Array(bytes[..<cut])) } }
        }
        #expect(throws: ConsensusError.unknownKind(9)) { try WALEntry.decode([9]) }
    }
}
