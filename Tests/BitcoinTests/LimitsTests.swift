// Goal: the limits in Limits.swift stay consistent with each other and with consensus constants.
// Method: direct assertions (Swift has no compile-time assert).
import Bitcoin
import Testing
import TestSupport

@Suite(.dedicatedThread) struct LimitsTests {
    @Test func limitsAreConsistent() {
        // A transaction's input and output counts are bounded by what fits in its byte limit.
        #expect(Limits.transactionInputsMax * 41 >= Limits.transactionBytesMax)
        #expect(Limits.transactionOutputsMax * 9 >= Limits.transactionBytesMax)
        // A merkle path of merkleDepthMax levels covers every block of blockTransactionsMax transactions.
        #expect((1 << Limits.merkleDepthMax) >= Limits.blockTransactionsMax)
        // CHECKMULTISIG's 20-key limit and a gateway script with 20 recovery keys fit the script size limit.
        #expect(2 + 34 + 35 + 4 + 2 + Limits.multisigKeysMax * 34 + 3 <= Limits.scriptBytesMax)
        #expect(Limits.scriptElementBytesMax == 520)
        #expect(Limits.relativeLockBlocksMax == 0xFFFF)
        #expect(Limits.moneyMax == 2_100_000_000_000_000)
        #expect(Limits.bech32CharactersMax == 90)
    }
}
