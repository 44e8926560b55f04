import Consensus
import Testing
import TestSupport

/// Relationships between limits that Swift cannot assert at compile time (TigerBeetle's comptime blocks).
@Suite(.dedicatedThread) struct LimitsTests {
    @Test func relationships() {
        // A proposal with the largest value fits in a signed message: 59 header bytes + value + 64 signature.
        #expect(Limits.signedMessageBytesMax >= 59 + Limits.valueBytesMax + 64)
        // A certificate with one precommit per validator fits.
        #expect(Limits.certificateBytesMax >= 24 + Limits.valueBytesMax + Limits.validatorsMax * 144)
        #expect(Limits.packetBytesMax >= Limits.certificateBytesMax && Limits.packetBytesMax >= Limits.signedMessageBytesMax)
        // Certificate counts are u16 on the wire.
        #expect(Limits.validatorsMax <= Int(UInt16.max))
        // A queue holds at least one message per round of every buffered height's first rounds.
        #expect(Limits.senderQueueMessagesMax >= Int(Limits.futureHeightsMax) * 3)
        #expect(Limits.roundsAheadStoredMax >= 1 && Limits.roundMax < Round.max / 2)
    }

    @Test func quorumsIntersectInAnHonestValidator() {
        let all = Committee(40).validators.keys
        for n in 1...40 {
            let set = try! ValidatorSet(keys: Array(all.prefix(n)))
            // Two quorums share at least f+1 validators, so at least one honest one.
            #expect(2 * set.quorum - n >= set.faultsTolerated + 1, "n=\(n)")
            #expect(set.skipThreshold == set.faultsTolerated + 1)
            #expect(n < 4 || set.faultsTolerated >= 1)
        }
    }
}
