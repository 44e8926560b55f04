import Bitcoin
import Crypto
import Secp256k1

/// The state's canonical encoding: every map written in sorted key order, so equal states give equal bytes. Its
/// SHA-256 (with a domain tag) is the state root a block commits to, and the bytes are the snapshot a node seals
/// to disk and restores from.
extension ShardState {
    static let encodingVersion: UInt8 = 1
    static let rootDomain = Array("darknode/shard/state-root/v1".utf8)

    func computeRoot() -> [UInt8] { Self.root(of: encoded) }

    static func root(of encoding: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(data: rootDomain)
        h.update(data: encoding)
        return Array(h.finalize())
    }

    public var encoded: [UInt8] {
        var w = CanonicalWriter(capacity: 4096)
        w.u8(Self.encodingVersion)
        w.fixed(genesis.hash)
        w.u64(height)
        w.fixed(lastBlockHash)
        w.u64(epoch)
        w.bool(shardKey != nil)
        if let shardKey { w.publicKey(shardKey) }
        w.count(headers.count)
        for h in headers {
            w.header(h.header)
            w.u64(UInt64(h.height))
            w.uint256(h.chainWork)
            w.u32(h.periodStartTime)
            w.u32(h.lastNormalBits)
        }
        let sortedCoins = coins.values.sorted { outpointPrecedes($0.outpoint, $1.outpoint) }
        w.count(sortedCoins.count)
        for c in sortedCoins { Self.write(c, to: &w) }
        let sortedMinted = minted.sorted { $0.lexicographicallyPrecedes($1) }
        w.count(sortedMinted.count)
        for n in sortedMinted { w.fixed(n) }
        let sortedRequests = requests.values.sorted { $0.id.lexicographicallyPrecedes($1.id) }
        w.count(sortedRequests.count)
        for r in sortedRequests { Self.write(r, to: &w) }
        w.count(unassigned.count)
        for id in unassigned { w.fixed(id) }
        w.count(presignaturePool.count)
        for id in presignaturePool { w.fixed(id) }
        let seen = presignaturesSeen.sorted { $0.lexicographicallyPrecedes($1) }
        w.count(seen.count)
        for id in seen { w.fixed(id) }
        let sortedSweeps = sweeps.values.sorted { $0.txid.lexicographicallyPrecedes($1.txid) }
        w.count(sortedSweeps.count)
        for s in sortedSweeps {
            w.fixed(s.txid)
            w.u64(s.feeRate)
            w.u64(s.committedAt)
            w.count(s.coins.count)
            for c in s.coins { Self.write(c, to: &w) }
        }
        let sortedOffences = offences.sorted {
            $0.offender != $1.offender ? $0.offender.lexicographicallyPrecedes($1.offender) : ($0.height, $0.kind) < ($1.height, $1.kind)
        }
        w.count(sortedOffences.count)
        for o in sortedOffences {
            w.fixed(o.offender)
            w.u64(o.height)
            w.u8(o.kind)
        }
        w.count(mpcSlotQueue.count)
        for e in mpcSlotQueue {
            w.u64(e.height)
            w.fixed(e.slot)
        }
        return w.bytes
    }

    /// Restores a state from its encoding under `genesis`, rebuilding the derived indexes and recomputing the root.
    public init(genesis: ShardGenesis, decoding bytes: [UInt8]) throws(ShardError) {
        guard bytes.count <= ShardLimits.stateBytesMax else { throw .oversize(field: "state", count: bytes.count, limit: ShardLimits.stateBytesMax) }
        var r = CanonicalReader(bytes)
        let version = try r.u8()
        guard version == Self.encodingVersion else { throw .unknownVersion(version) }
        guard try r.hash32() == genesis.hash else { throw .malformed("state belongs to another genesis") }
        self.init(genesis: genesis)
        height = try r.u64()
        lastBlockHash = try r.hash32()
        epoch = try r.u64()
        shardKey = try r.bool() ? try r.publicKey() : nil
        let headerCount = try r.count(field: "headers", max: ShardLimits.headerWindow, minimumElementBytes: 128)
        guard headerCount > 0 else { throw .malformed("state without a relayed header") }
        headers = []
        for _ in 0..<headerCount {
            let header = try r.header()
            let h = try r.u64()
            guard h <= UInt64(Int32.max) else { throw .malformed("header height \(h)") }
            headers.append(RelayedHeader(header: header, height: Int(h), chainWork: try r.uint256(), periodStartTime: try r.u32(), lastNormalBits: try r.u32()))
        }
        headerPosition = Dictionary(headers.enumerated().map { ($1.hash, $0) }, uniquingKeysWith: { a, _ in a })
        let coinCount = try r.count(field: "coins", max: Int(UInt32.max), minimumElementBytes: 46)
        coins = [:]
        for _ in 0..<coinCount {
            let c = try Self.readCoin(&r)
            coins[c.outpoint] = c
        }
        let mintedCount = try r.count(field: "minted", max: Int(UInt32.max), minimumElementBytes: 32)
        minted = []
        for _ in 0..<mintedCount { minted.insert(try r.hash32()) }
        let requestCount = try r.count(field: "requests", max: Int(UInt32.max), minimumElementBytes: 80)
        requests = [:]
        assignments = [:]
        pendingCount = 0
        for _ in 0..<requestCount {
            let req = try Self.readRequest(&r)
            requests[req.id] = req
            if req.signature == nil {
                pendingCount += 1
                if let p = req.presignature { assignments[p] = req.id }
            }
        }
        let unassignedCount = try r.count(field: "unassigned", max: ShardLimits.pendingRequestsMax, minimumElementBytes: 32)
        unassigned = []
        for _ in 0..<unassignedCount { unassigned.append(try r.hash32()) }
        let poolCount = try r.count(field: "presignature pool", max: ShardLimits.presignaturePoolMax, minimumElementBytes: 32)
        presignaturePool = []
        for _ in 0..<poolCount { presignaturePool.append(try r.hash32()) }
        let seenCount = try r.count(field: "presignatures seen", max: Int(UInt32.max), minimumElementBytes: 32)
        presignaturesSeen = []
        for _ in 0..<seenCount { presignaturesSeen.insert(try r.hash32()) }
        let sweepCount = try r.count(field: "sweeps", max: Int(UInt32.max), minimumElementBytes: 52)
        sweeps = [:]
        for _ in 0..<sweepCount {
            let txid = try r.hash32(), fee = try r.u64(), at = try r.u64()
            let n = try r.count(field: "sweep coins", max: ShardLimits.sweepInputsMax, minimumElementBytes: 46)
            var spent: [CustodyCoin] = []
            for _ in 0..<n { spent.append(try Self.readCoin(&r)) }
            sweeps[txid] = SweepRecord(txid: txid, coins: spent, feeRate: fee, committedAt: at)
        }
        let offenceCount = try r.count(field: "offences", max: Int(UInt32.max), minimumElementBytes: 42)
        offences = []
        for _ in 0..<offenceCount { offences.insert(Offence(offender: try r.fixed(33), height: try r.u64(), kind: try r.u8())) }
        let slotCount = try r.count(field: "MPC slots", max: ShardLimits.mpcSlotsMax, minimumElementBytes: 40)
        mpcSlotQueue = []
        mpcSlots = []
        for _ in 0..<slotCount {
            let e = (height: try r.u64(), slot: try r.hash32())
            guard mpcSlots.insert(e.slot).inserted, e.height >= (mpcSlotQueue.last?.height ?? 0) else { throw .malformed("MPC slot table") }
            mpcSlotQueue.append(e)
        }
        try r.finish()
        guard encoded == bytes else { throw .malformed("state is not in canonical form") }
        encodedAtRoot = bytes
        root = Self.root(of: bytes)
    }

    private static func write(_ c: CustodyCoin, to w: inout CanonicalWriter) {
        w.outpoint(c.outpoint)
        w.u64(c.value)
        w.bool(c.gHash != nil)
        if let g = c.gHash { w.fixed(g) }
        w.bool(c.spendable)
    }

    private static func readCoin(_ r: inout CanonicalReader) throws(ShardError) -> CustodyCoin {
        let o = try r.outpoint(), v = try r.u64()
        let g: [UInt8]? = try r.bool() ? try r.hash32() : nil
        return CustodyCoin(outpoint: o, value: v, gHash: g, spendable: try r.bool())
    }

    private static func write(_ q: SigningRequest, to w: inout CanonicalWriter) {
        w.fixed(q.id)
        w.fixed(q.digest)
        w.u64(q.committedAt)
        switch q.purpose {
        case .mint(let m):
            w.u8(1)
            w.fixed(m.nHash)
            w.fixed(m.pHash)
            w.fixed(m.sHash)
            w.fixed(m.to)
            w.u64(m.amount)
            w.outpoint(m.deposit)
        case .sweepInput(let txid, let index):
            w.u8(2)
            w.fixed(txid)
            w.u32(index)
        }
        w.bool(q.presignature != nil)
        if let p = q.presignature { w.fixed(p) }
        w.bool(q.signature != nil)
        if let s = q.signature { w.fixed(s.compact) }
    }

    private static func readRequest(_ r: inout CanonicalReader) throws(ShardError) -> SigningRequest {
        let id = try r.hash32(), digest = try r.hash32(), at = try r.u64()
        let purpose: SigningPurpose
        switch try r.u8() {
        case 1:
            purpose = .mint(MintRecord(nHash: try r.hash32(), pHash: try r.hash32(), sHash: try r.hash32(), to: try r.fixed(20),
                                       amount: try r.u64(), deposit: try r.outpoint()))
        case 2:
            purpose = .sweepInput(sweepTxid: try r.hash32(), inputIndex: try r.u32())
        case let t:
            throw .malformed("signing purpose \(t)")
        }
        var q = SigningRequest(id: id, digest: digest, purpose: purpose, committedAt: at)
        if try r.bool() { q.presignature = try r.hash32() }
        if try r.bool() {
            do { q.signature = try ECDSASignature(compact: try r.fixed(64)) } catch let e as ShardError { throw e } catch {
                throw .malformed("stored signature")
            }
        }
        return q
    }
}
