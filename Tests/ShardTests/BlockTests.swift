import Bitcoin
import Consensus
import Crypto
import Secp256k1
import Testing
import TestSupport

@testable import Shard

@Suite(.dedicatedThread) struct BlockTests {
    /// A few blocks of every transaction kind, for encoding and determinism checks.
    func busyShard() throws -> (ShardFixture, [ShardBlock]) {
        var f = try ShardFixture()
        var blocks: [ShardBlock] = []
        func step(_ txs: [ShardTransaction]) throws {
            let built = BlockBuilder.build(on: f.state, candidates: txs)
            #expect(built.refused.isEmpty)
            try f.state.apply(built.block)
            blocks.append(built.block)
        }
        try step([.shardKey(ShardKeyRegistration(epoch: 0, key: f.shardKey.publicKey))])
        let ds = (0..<3).map { f.deposit($0) }
        var headers: [BlockHeader] = []
        for i in 0..<3 {
            let b = f.miner.mine(i == 0 ? ds.map(\.transaction) : [])
            f.minedBlocks.append(b)
            headers.append(b.header)
        }
        try step([.bitcoinHeaders(headers)])
        try step(try ds.map { .mint(try f.mintRequest($0, in: f.minedBlocks[0])) } + [.presignatures(PresignatureBatch(epoch: 0, ids: f.presignatureIDs(4)))])
        try step([.signatures(try f.signAssigned())])
        try step([.sweep(SweepRequest(coins: f.state.spendableCoins.map(\.outpoint), feeRate: 3))])
        return (f, blocks)
    }

    @Test func replayingTheSameBlocksGivesTheSameRoot() throws {
        let (f, blocks) = try busyShard()
        var replica = ShardState(genesis: try ShardGenesis(decoding: f.genesis.encoded))
        for b in blocks { try replica.apply(try ShardBlock(decoding: b.encoded)) }
        #expect(replica.root == f.state.root)
        #expect(replica.encoded == f.state.encoded)
        #expect(Set(blocks.map(\.stateRoot)).count == blocks.count, "every block changed the state")
    }

    @Test func stateSnapshotRoundTrips() throws {
        let (f, _) = try busyShard()
        let restored = try ShardState(genesis: f.genesis, decoding: f.state.encoded)
        #expect(restored.root == f.state.root)
        #expect(restored.requestsToSign == f.state.requestsToSign)
        #expect(restored.pendingRequests == f.state.pendingRequests)
        var tampered = f.state.encoded
        tampered.append(0)
        #expect(throws: ShardError.malformed("1 trailing bytes")) { try ShardState(genesis: f.genesis, decoding: tampered) }
        let other = try ShardGenesis(chainID: "another", committee: f.genesis.committee, threshold: 1, bitcoinNetwork: .regtest,
                                     checkpoint: f.genesis.checkpoint, confirmationsRequired: 3, recovery: f.recovery, selectors: ["BTC/toEthereum"])
        #expect(throws: ShardError.malformed("state belongs to another genesis")) { try ShardState(genesis: other, decoding: f.state.encoded) }
    }

    @Test func blockMustFollowItsParent() throws {
        var f = try ShardFixture()
        let next = BlockBuilder.build(on: f.state, candidates: []).block
        func variant(height: UInt64? = nil, previous: [UInt8]? = nil, epoch: UInt64? = nil, root: [UInt8]? = nil) -> ShardBlock {
            ShardBlock(height: height ?? next.height, previousHash: previous ?? next.previousHash, epoch: epoch ?? next.epoch,
                       stateRoot: root ?? next.stateRoot, transactions: [])
        }
        #expect(throws: ShardError.wrongHeight(expected: 1, found: 2)) { try f.state.validate(variant(height: 2)) }
        #expect(throws: ShardError.wrongPreviousHash) { try f.state.validate(variant(previous: [UInt8](repeating: 0, count: 32))) }
        #expect(throws: ShardError.wrongEpoch(expected: 0, found: 1)) { try f.state.validate(variant(epoch: 1)) }
        #expect(throws: ShardError.wrongStateRoot) { try f.state.validate(variant(root: [UInt8](repeating: 0, count: 32))) }
        try f.state.apply(next)
        #expect(f.state.lastBlockHash == next.hash)
        #expect(throws: ShardError.wrongHeight(expected: 2, found: 1)) { try f.state.apply(next) }
    }

    @Test func encodingsRoundTripAndRefuseTrailingBytes() throws {
        let (f, blocks) = try busyShard()
        for b in blocks {
            let bytes = b.encoded
            #expect(try ShardBlock(decoding: bytes) == b)
            #expect(throws: ShardError.malformed("1 trailing bytes")) { try ShardBlock(decoding: bytes + [0]) }
            for t in b.transactions { #expect(try ShardTransaction(decoding: t.encoded) == t) }
        }
        #expect(try ShardGenesis(decoding: f.genesis.encoded) == f.genesis)
        #expect(throws: ShardError.unknownTransactionType(8)) { try ShardTransaction(decoding: [8, 0, 0]) }
        #expect(throws: ShardError.unknownVersion(2)) { try ShardBlock(decoding: [2] + blocks[0].encoded.dropFirst()) }
    }

    /// Every truncation and every single-byte change of real blocks either decodes to a block whose re-encoding is
    /// the same bytes, or fails with a typed error; a structural mutation (transactions dropped, duplicated,
    /// swapped between blocks) is judged by the rules, never crashes them.
    @Test func mutatedBlocksFailTyped() throws {
        let (f, blocks) = try busyShard()
        var checked = 0
        for b in blocks {
            let bytes = b.encoded
            for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)) {
                #expect(throws: ShardError.self) { try ShardBlock(decoding: Array(bytes[..<cut])) }
                checked += 1
            }
            for i in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 300)) {
                var m = bytes
                m[i] ^= 0x5A
                if let decoded = try? ShardBlock(decoding: m) { #expect(decoded.encoded == m) }
                checked += 1
            }
        }
        var replica = ShardState(genesis: f.genesis)
        for b in blocks {
            for mutated in [ShardBlock(height: b.height, previousHash: b.previousHash, epoch: b.epoch, stateRoot: b.stateRoot,
                                       transactions: b.transactions + b.transactions),
                            ShardBlock(height: b.height, previousHash: b.previousHash, epoch: b.epoch, stateRoot: b.stateRoot,
                                       transactions: blocks.flatMap(\.transactions).reversed())] where mutated != b {
                let before = replica.root
                if (try? replica.validate(mutated)) == nil { #expect(replica.root == before) }
                checked += 1
            }
            try replica.apply(b)
        }
        #expect(replica.root == f.state.root)
        #expect(checked > 500)
    }

    @Test func misbehaviourIsRecordedOnce() throws {
        var f = try ShardFixture()
        let offender = Secp256k1Signer(privateKey: f.committee[2])
        let a = SignedMessage.sign(.vote(Vote(step: .prevote, height: 5, round: 0, valueID: ValueID(of: Value([1])))), with: offender)
        let b = SignedMessage.sign(.vote(Vote(step: .prevote, height: 5, round: 0, valueID: ValueID(of: Value([2])))), with: offender)
        let events = try f.commit([.misbehaviour(.doublePrevote(a, b))])
        #expect(events == [.misbehaviourRecorded(offender: f.committee[2].publicKey.compressed, height: 5)])
        #expect(try f.refusal(of: .misbehaviour(.doublePrevote(b, a))) == .evidenceAlreadyRecorded)
        // Not a conflict: the same vote twice.
        #expect(try f.refusal(of: .misbehaviour(.doublePrevote(a, a))) == .evidenceRejected(.notMisbehaviour))
        // Signed by someone outside the committee.
        let outsider = Secp256k1Signer(privateKey: testKey(99))
        let c = SignedMessage.sign(.vote(Vote(step: .precommit, height: 5, round: 0, valueID: nil)), with: outsider)
        let d = SignedMessage.sign(.vote(Vote(step: .precommit, height: 5, round: 0, valueID: ValueID(of: Value([3])))), with: outsider)
        #expect(try f.refusal(of: .misbehaviour(.doublePrecommit(c, d))) != nil)
    }

    @Test func genesisRefusesUnsafeCommittees() throws {
        let keys = (0..<4).map { testKey($0).publicKey }
        let recovery = try RecoveryPolicy(threshold: 1, keys: [testKey(9).publicKey])
        func make(_ committee: [PublicKey], t: Int) throws -> ShardGenesis {
            try ShardGenesis(chainID: "g", committee: committee, threshold: t, bitcoinNetwork: .regtest, checkpoint: RegtestMiner.genesisCheckpoint,
                             confirmationsRequired: 1, recovery: recovery, selectors: ["BTC/toEthereum"])
        }
        #expect(throws: ShardError.self) { try make(keys, t: 2) }  // 3t+1 = 7 > 4
        #expect(throws: ShardError.self) { try make(keys + [keys[0]], t: 1) }  // duplicate member
        #expect(throws: ShardError.self) { try make([keys[0]], t: 0) }  // one member: its own quorum, no threshold
        _ = try make(keys, t: 1)
    }
}

/// Consensus as the MPC reliable broadcast: one payload per (session, sender, round), signed by its sender.
@Suite(.dedicatedThread) struct MPCBroadcastTests {
    @Test func broadcastsAreOrderedSignedAndNeverEquivocate() throws {
        var f = try ShardFixture()
        let session = Array(SHA256.hash(data: Array("session".utf8)))
        let first = try MPCBroadcast.signed(epoch: 0, session: session, sender: 1, round: 0, payload: [1, 2, 3], key: f.committee[1])
        let events = try f.commit([.mpcBroadcast(first)])
        #expect(events == [.mpcBroadcast(first)])
        // The same slot with another payload (equivocation) and the same message again are both refused.
        let other = try MPCBroadcast.signed(epoch: 0, session: session, sender: 1, round: 0, payload: [9], key: f.committee[1])
        #expect(try f.refusal(of: .mpcBroadcast(other)) == .mpcSlotTaken)
        #expect(try f.refusal(of: .mpcBroadcast(first)) == .mpcSlotTaken)
        // Someone else's slot signed with the wrong key (a proposer forging a member's message).
        let forged = try MPCBroadcast.signed(epoch: 0, session: session, sender: 2, round: 0, payload: [4], key: f.committee[0])
        #expect(try f.refusal(of: .mpcBroadcast(forged)) == .mpcSignatureInvalid)
        let outsider = try MPCBroadcast.signed(epoch: 0, session: session, sender: 9, round: 0, payload: [4], key: f.committee[0])
        #expect(try f.refusal(of: .mpcBroadcast(outsider)) == .notACommitteeMember(9))
        let stale = try MPCBroadcast.signed(epoch: 5, session: session, sender: 2, round: 0, payload: [4], key: f.committee[2])
        #expect(try f.refusal(of: .mpcBroadcast(stale)) == .wrongEpoch(expected: 0, found: 5))
        let next = try MPCBroadcast.signed(epoch: 0, session: session, sender: 1, round: 1, payload: [5], key: f.committee[1])
        #expect(try f.refusal(of: .mpcBroadcast(next)) == nil)
        // Taken slots are part of the state (and its root).
        let restored = try ShardState(genesis: f.genesis, decoding: f.state.encoded)
        #expect(restored.root == f.state.root)
        var again = restored
        #expect(throws: ShardError.mpcSlotTaken) { _ = try again.applyCandidate(.mpcBroadcast(first)) }
        #expect(try ShardTransaction(decoding: ShardTransaction.mpcBroadcast(first).encoded) == .mpcBroadcast(first))
    }
}
