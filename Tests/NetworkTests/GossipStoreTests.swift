import Secp256k1
import Testing

@testable import Network

/// The pending-pull bookkeeping on its own, with a hand-driven clock.
@Suite struct GossipStoreTests {
    let peers = (0..<3).map { _ in PeerID(PrivateKey.generate().publicKey) }
    let start = ContinuousClock.now
    let timeout: Duration = .seconds(1)

    func hash(_ i: Int) -> [UInt8] { [UInt8](repeating: UInt8(i & 0xFF), count: 31) + [UInt8(i >> 8)] }

    /// Goal: one peer's outstanding pulls are capped, and the cap frees up as its pulls are answered or expire.
    @Test func pullsArePerPeerQuotas() {
        var store = GossipStore(capacity: 16, pendingCapacity: 100, pendingPerPeer: 3)
        let outcomes = (0..<5).map { store.offered(hash($0), by: peers[0], now: start, timeout: timeout) }
        #expect(outcomes == [.pull, .pull, .pull, .overQuota, .overQuota])
        #expect(store.offered(hash(9), by: peers[1], now: start, timeout: timeout) == .pull,
                "another peer has its own quota")
        store.store(hash(0), .init(content: [1], topic: "", sessionID: [], author: []))
        #expect(store.offered(hash(3), by: peers[0], now: start, timeout: timeout) == .pull,
                "an answered pull frees a slot")
        #expect(store.expire(now: start + timeout, timeout: timeout).isEmpty, "no fallback: forgotten")
        #expect(store.pendingCount == 0)
    }

    /// Goal: a late pull moves to the next peer that offered the hash; so does a pull whose peer disconnects.
    @Test func latePullsMoveToTheNextPusher() {
        var store = GossipStore(capacity: 16, pendingCapacity: 100, pendingPerPeer: 3)
        #expect(store.offered(hash(1), by: peers[0], now: start, timeout: timeout) == .pull)
        #expect(store.offered(hash(1), by: peers[1], now: start + .milliseconds(10), timeout: timeout) == .known)
        #expect(store.offered(hash(1), by: peers[2], now: start + .milliseconds(20), timeout: timeout) == .known)
        #expect(store.expire(now: start + timeout - .milliseconds(1), timeout: timeout).isEmpty, "not late yet")
        let moved = store.expire(now: start + timeout, timeout: timeout)
        #expect(moved.map(\.peer) == [peers[1]])
        let again = store.dropPending(from: peers[1], now: start + timeout + .milliseconds(1), timeout: timeout)
        #expect(again.map(\.peer) == [peers[2]])
        #expect(store.isPending(hash(1)))
    }
}
