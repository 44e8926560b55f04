import Bitcoin
import Crypto
import Testing
import TestSupport

@testable import Shard

@Suite(.dedicatedThread) struct HeaderRelayTests {
    @Test func headersExtendTheRelayedChain() throws {
        var f = try ShardFixture()
        try f.mineAndRelay(5)
        #expect(f.state.bitcoinTip.height == 5)
        #expect(f.state.bitcoinTip.hash == f.minedBlocks[4].header.hash)
        // The same headers again do not attach as an extension and carry no more work.
        #expect(try f.refusal(of: .bitcoinHeaders(f.minedBlocks.suffix(2).map(\.header))) == .forkWithLessWork)
    }

    @Test func brokenOrUnprovenHeadersAreRefused() throws {
        var f = try ShardFixture()
        var miner = RegtestMiner()
        let a = miner.mine(), b = miner.mine()
        // Starts after a header the relay does not know.
        #expect(try f.refusal(of: .bitcoinHeaders([b.header])) == .headersDoNotAttach)
        // Insufficient proof of work: a nonce whose hash misses regtest's target.
        var weak = a.header
        while ChainParameters.regtest.checkProofOfWork(hash: weak.hash, bits: weak.bits) { weak.nonce &+= 1 }
        #expect(try f.refusal(of: .bitcoinHeaders([weak])) == .headerRejected(.insufficientProofOfWork(height: 1)))
        // Wrong difficulty bits.
        var easy = a.header
        easy.bits = 0x1D00_FFFF
        #expect(try f.refusal(of: .bitcoinHeaders([easy]))?.description.contains("header rejected") == true)
        #expect(try f.refusal(of: .bitcoinHeaders([a.header, b.header])) == nil)
        #expect(f.state.bitcoinTip.height == 2)
    }

    /// A fork from inside the window with more work replaces the tail; an equal-work fork does not.
    @Test func heavierForkReorganises() throws {
        var f = try ShardFixture()
        try f.mineAndRelay(3)
        var forkMiner = RegtestMiner()
        var forkHeaders: [BlockHeader] = []
        for i in 0..<4 { forkHeaders.append(forkMiner.mine(spacing: 300 + UInt32(i)).header) }
        #expect(forkHeaders[0].hash != f.minedBlocks[0].header.hash)
        #expect(try f.refusal(of: .bitcoinHeaders(Array(forkHeaders.prefix(3)))) == .forkWithLessWork)
        let events = try f.commit([.bitcoinHeaders(forkHeaders)])
        #expect(events == [.headersRelayed(tipHeight: 4, reorganised: true)])
        #expect(f.state.bitcoinTip.hash == forkHeaders[3].hash)
        #expect(f.state.relayedHeader(hash: f.minedBlocks[2].header.hash) == nil)
    }

    @Test func windowIsBounded() throws {
        var f = try ShardFixture()
        var remaining = ShardLimits.headerWindow + 10
        while remaining > 0 {
            let n = min(remaining, ShardLimits.headersPerTransactionMax)
            try f.mineAndRelay(n)
            remaining -= n
        }
        #expect(f.state.headers.count == ShardLimits.headerWindow)
        #expect(f.state.bitcoinTip.height == ShardLimits.headerWindow + 10)
        #expect(f.state.relayedHeader(hash: f.minedBlocks[5].header.hash) == nil)
    }
}
