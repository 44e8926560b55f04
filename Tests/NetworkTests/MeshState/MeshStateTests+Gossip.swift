import Crypto
import Testing
import WireCodec

@testable import Network

/// Gossip in the pure state: its actions must not depend on hash-table order, or a seed does not replay.
extension MeshStateTests {
    /// Goal: the same inputs give the same actions in the same order, so a simulation seed replays. Pushes of
    /// originated and relayed content go out in connection order, and pulls retried after an expiry in hash
    /// order. Before: they followed the order of the state's dictionaries (seeded per process and per table), and
    /// the gossip simulation's same-seed runs differed (2,865 events, then 2,870).
    @Test func gossipActionsDoNotDependOnHashTableOrder() {
        let keys = seededKeys(8, seed: 31)
        var state = makeState(keys[7], admitted: keys)  // the largest identity: it decides and installs at once
        for (n, key) in keys.prefix(7).enumerated() {
            let id = ConnectionID(raw: UInt64(n + 1))
            _ = state.handle(.inboundOpened(id, source: "10.0.0.\(n + 1)"), now: start)
            _ = state.handle(.authenticated(id, authenticatedPeer(key)), now: start)
        }
        #expect(state.current.count == 7)
        let ids = (1...7).map { ConnectionID(raw: $0) }

        var actions: [MeshAction] = []
        let content: [UInt8] = Array("ours".utf8)
        state.originate(content, hash: Array(SHA256.hash(data: content)), topic: "t", session: [], into: &actions)
        #expect(actions.sent(.gossipPush).map(\.0) == ids, "originated content is pushed in connection order")

        // Content pulled from connection 3 is relayed to the others in connection order.
        let relayed: [UInt8] = Array("theirs".utf8)
        let hash = Array(SHA256.hash(data: relayed))
        _ = state.handle(.received(ids[2], .mesh(.gossipPush, payload: [], hash: hash, author: [])), now: start)
        let arrived = state.handle(.received(ids[2], .mesh(.gossipContent, payload: relayed, hash: hash, author: [])), now: start)
        #expect(arrived.sent(.gossipPush).map(\.0) == ids.filter { $0 != ids[2] })

        // Hashes pushed first by connection 1, then by connection 2: when the pulls from 1 expire, they are
        // retried from 2 in hash order.
        let hashes = (0..<12).map { Array(SHA256.hash(data: [UInt8($0)])) }
        for h in hashes {
            _ = state.handle(.received(ids[0], .mesh(.gossipPush, payload: [], hash: h, author: [])), now: start)
            _ = state.handle(.received(ids[1], .mesh(.gossipPush, payload: [], hash: h, author: [])), now: start)
        }
        let retried = state.tick(now: start + NetworkLimits().pendingPullTimeout + .milliseconds(1)).sent(.gossipPull)
        #expect(retried.count == hashes.count && retried.allSatisfy { $0.0 == ids[1] })
        let order = retried.map { [UInt8]($0.1.contentHash) }
        #expect(order == hashes.sorted { $0.lexicographicallyPrecedes($1) }, "retried pulls go out in hash order")
    }
}
