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

    /// Goal: a crash in the middle of an append loses only that record, and says so; damage elsewhere is refused.
    /// Method: three framed entries; the log cut at every byte of the last record recovers the first two with a
    /// `.torn` tail of the cut length; a flipped byte in a complete record (body or checksum) and an impossible
    /// length are `corruptWAL` at that record's offset.
    @Test func aTornTailIsDroppedAndDamageIsRefused() throws {
        let signer = Secp256k1Signer(privateKey: try PrivateKey(bytes: [UInt8](repeating: 8, count: 32)))
        let value = Value(Array("block".utf8))
        let entries: [WALEntry] = [
            .signed(SignedMessage.sign(.vote(Vote(step: .prevote, height: 4, round: 0, valueID: value.id)), with: signer)),
            .locked(height: 4, RoundValue(value: value, round: 0)),
            .signed(SignedMessage.sign(.vote(Vote(step: .precommit, height: 4, round: 0, valueID: value.id)), with: signer)),
        ]
        let records = entries.map(WALRecords.frame)
        let log = records.flatMap { $0 }
        #expect(try WALRecords.recover(log) == WALRecovery(entries: entries, intactBytes: log.count, tail: .clean))
        #expect(try WALRecords.recover([]) == WALRecovery(entries: [], intactBytes: 0, tail: .clean))
        let intact = records[0].count + records[1].count
        for cut in 1..<records[2].count {
            let recovered = try WALRecords.recover(Array(log.prefix(intact + cut)))
            #expect(recovered == WALRecovery(entries: Array(entries.prefix(2)), intactBytes: intact, tail: .torn(bytes: cut)))
        }
        for position in [records[0].count + 6, intact - 1, log.count - 1] {
            var damaged = log
            damaged[position] ^= 0x40
            let offset = position < intact ? records[0].count : intact
            #expect(throws: ConsensusError.corruptWAL(offset: offset)) { try WALRecords.recover(damaged) }
        }
        var oversize = log
        oversize.replaceSubrange(0..<4, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: ConsensusError.corruptWAL(offset: 0)) { try WALRecords.recover(oversize) }
    }
}
