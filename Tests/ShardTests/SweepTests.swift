import Bitcoin
import Crypto
import Secp256k1
import Testing
import TestSupport

@testable import Shard

@Suite(.dedicatedThread) struct SweepTests {
    /// Mints `n` deposits and signs them, leaving `n` spendable custody coins.
    func custody(_ n: Int) throws -> ShardFixture {
        var f = try ShardFixture()
        try f.registerKey()
        let deposits = (0..<n).map { f.deposit($0, amount: 50_000 + UInt64($0)) }
        try f.mineAndRelay(3, transactions: deposits.map(\.transaction))
        try f.commit(try deposits.map { .mint(try f.mintRequest($0, in: f.minedBlocks[0])) })
        try f.commit([.presignatures(PresignatureBatch(epoch: 0, ids: f.presignatureIDs(n)))])
        try f.commit([.signatures(try f.signAssigned())])
        return f
    }

    /// A sweep of 24 custody coins: one request per input, each signed, then the assembled segwit transaction
    /// carries a valid shard signature on every input (checked by `applyNetworkSignatures` against BIP143 sighashes)
    /// and its output becomes spendable custody.
    @Test func sweepConsolidatesCustodyAndIsSignedPerInput() throws {
        var f = try custody(24)
        let coins = f.state.spendableCoins
        #expect(coins.count == 24)
        let events = try f.commit([.sweep(SweepRequest(coins: coins.map(\.outpoint), feeRate: 2))])
        guard case .sweepAccepted(let txid, let inputs) = events.first else { Issue.record("no sweep: \(events)"); return }
        #expect(inputs == 24)
        #expect(f.state.spendableCoins.isEmpty)
        let unsigned = try f.state.unsignedSweep(txid: txid)
        #expect(unsigned.transaction.inputs.count == 24)
        #expect(unsigned.transaction.outputs.count == 1)
        let total = coins.reduce(0) { $0 + $1.value }
        #expect(unsigned.transaction.outputs[0].value == total - unsigned.fee)
        #expect(unsigned.transaction.outputs[0].scriptPubKey == f.state.gatewayScript(gHash: nil)!.scriptPubKey)

        #expect(throws: ShardError.unknownRequest) { try f.state.signedSweep(txid: txid) }
        try f.commit([.presignatures(PresignatureBatch(epoch: 0, ids: f.presignatureIDs(24)))])
        let signing = try f.commit([.signatures(try f.signAssigned())])
        #expect(signing.last == .sweepSigned(txid: txid))
        let signed = try f.state.signedSweep(txid: txid)
        #expect(signed.txid == txid)
        #expect(signed.inputs.allSatisfy { $0.witness.count == 3 })
        #expect(f.state.spendableCoins.map(\.outpoint) == [OutPoint(txid: txid, index: 0)])
    }

    @Test func sweepRefusesWhatIsNotSpendableCustody() throws {
        var f = try custody(3)
        let coins = f.state.spendableCoins.map(\.outpoint)
        #expect(try f.refusal(of: .sweep(SweepRequest(coins: [], feeRate: 2))) == .sweepEmpty)
        #expect(try f.refusal(of: .sweep(SweepRequest(coins: coins.reversed(), feeRate: 2))) == .sweepInputsNotSorted)
        #expect(try f.refusal(of: .sweep(SweepRequest(coins: [coins[0], coins[0]], feeRate: 2))) == .sweepInputsNotSorted)
        #expect(try f.refusal(of: .sweep(SweepRequest(coins: coins, feeRate: 0))) == .feeRateOutOfBounds(0))
        let stranger = OutPoint(txid: [UInt8](repeating: 0xAB, count: 32), index: 0)
        #expect(try f.refusal(of: .sweep(SweepRequest(coins: [stranger], feeRate: 2))) == .coinNotSpendable("\(stranger.displayTxid):0"))
        #expect(try f.refusal(of: .sweep(SweepRequest(coins: coins, feeRate: 2))) == nil)
        // Spent coins and the unsigned sweep's output cannot be swept again.
        #expect(try f.refusal(of: .sweep(SweepRequest(coins: [coins[0]], feeRate: 2))) == .coinNotSpendable("\(coins[0].displayTxid):\(coins[0].index)"))
        #expect(f.state.spendableCoins.isEmpty)
    }
}
