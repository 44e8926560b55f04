import Bitcoin
import Consensus
import Crypto
import Secp256k1

/// What a block carries. Every transaction is checked against the state by the same deterministic rules on every
/// node (`ShardState.apply`); none depends on a node's own view of Bitcoin, only on proofs inside blocks.
///
/// Wire tags: 1 headers, 2 mint, 3 sweep, 4 presignature batch, 5 signature results, 6 misbehaviour, 7 shard key,
/// 11 MPC broadcast. Reserved for what comes with the EVM chain and epochs: 8 burn (a release proven by a log of the
/// EVM chain), 9 committee change, 10 join request. A decoder of this release refuses them with
/// `unknownTransactionType`.
public enum ShardTransaction: Sendable, Equatable {
    /// Bitcoin headers extending (or, with more work, replacing the tail of) the relayed chain.
    case bitcoinHeaders([BlockHeader])
    /// Lock-and-mint: a deposit to a gateway script, proven against the relayed chain.
    case mint(MintRequest)
    /// The shard consolidates custody coins into one fresh custody output.
    case sweep(SweepRequest)
    /// Presignature ids the committee finished, added to the pool consensus assigns from.
    case presignatures(PresignatureBatch)
    /// Combined threshold signatures for committed requests.
    case signatures([SignatureResult])
    /// Signed consensus messages proving a validator broke the protocol.
    case misbehaviour(Misbehaviour)
    /// The shard key that key generation produced (once per epoch).
    case shardKey(ShardKeyRegistration)
    /// A committee member's broadcast message of an MPC session: consensus is the MPC reliable broadcast, so every
    /// member sees every broadcast in the same order and rounds close at the same block.
    case mpcBroadcast(MPCBroadcast)

    static let headersTag: UInt8 = 1, mintTag: UInt8 = 2, sweepTag: UInt8 = 3, presignaturesTag: UInt8 = 4,
        signaturesTag: UInt8 = 5, misbehaviourTag: UInt8 = 6, shardKeyTag: UInt8 = 7, mpcBroadcastTag: UInt8 = 11

    public var kind: String {
        switch self {
        case .bitcoinHeaders: "headers"
        case .mint: "mint"
        case .sweep: "sweep"
        case .presignatures: "presignatures"
        case .signatures: "signatures"
        case .misbehaviour: "misbehaviour"
        case .shardKey: "shardKey"
        case .mpcBroadcast: "mpcBroadcast"
        }
    }

    public var encoded: [UInt8] {
        var w = CanonicalWriter()
        encode(into: &w)
        return w.bytes
    }

    /// SHA-256 of the encoding: the mempool's key for this transaction.
    public var id: [UInt8] { Array(SHA256.hash(data: encoded)) }

    func encode(into w: inout CanonicalWriter) {
        switch self {
        case .bitcoinHeaders(let headers):
            w.u8(Self.headersTag)
            w.count(headers.count)
            for h in headers { w.header(h) }
        case .mint(let m):
            w.u8(Self.mintTag)
            m.encode(into: &w)
        case .sweep(let s):
            w.u8(Self.sweepTag)
            w.count(s.coins.count)
            for o in s.coins { w.outpoint(o) }
            w.u64(s.feeRate)
        case .presignatures(let b):
            w.u8(Self.presignaturesTag)
            w.u64(b.epoch)
            w.count(b.ids.count)
            for id in b.ids { w.fixed(id) }
        case .signatures(let results):
            w.u8(Self.signaturesTag)
            w.count(results.count)
            for r in results {
                w.fixed(r.requestID)
                w.fixed(r.signature.compact)
            }
        case .misbehaviour(let m):
            w.u8(Self.misbehaviourTag)
            w.variable(m.encoded)
        case .shardKey(let k):
            w.u8(Self.shardKeyTag)
            w.u64(k.epoch)
            w.publicKey(k.key)
        case .mpcBroadcast(let m):
            w.u8(Self.mpcBroadcastTag)
            m.encode(into: &w)
        }
    }

    /// Decodes one transaction that fills `bytes` exactly.
    public init(decoding bytes: [UInt8]) throws(ShardError) {
        var r = CanonicalReader(bytes)
        self = try Self.decode(from: &r)
        try r.finish()
    }

    static func decode(from r: inout CanonicalReader) throws(ShardError) -> ShardTransaction {
        let tag = try r.u8()
        switch tag {
        case headersTag:
            let n = try r.count(field: "headers", max: ShardLimits.headersPerTransactionMax, minimumElementBytes: BlockHeader.byteCount)
            guard n > 0 else { throw .malformed("header relay with no headers") }
            var headers: [BlockHeader] = []
            headers.reserveCapacity(n)
            for _ in 0..<n { headers.append(try r.header()) }
            return .bitcoinHeaders(headers)
        case mintTag:
            return .mint(try MintRequest(from: &r))
        case sweepTag:
            let n = try r.count(field: "sweep inputs", max: ShardLimits.sweepInputsMax, minimumElementBytes: 36)
            var coins: [OutPoint] = []
            for _ in 0..<n { coins.append(try r.outpoint()) }
            return .sweep(SweepRequest(coins: coins, feeRate: try r.u64()))
        case presignaturesTag:
            let epoch = try r.u64()
            let n = try r.count(field: "presignature ids", max: ShardLimits.presignaturesPerBatchMax, minimumElementBytes: 32)
            var ids: [[UInt8]] = []
            for _ in 0..<n { ids.append(try r.hash32()) }
            return .presignatures(PresignatureBatch(epoch: epoch, ids: ids))
        case signaturesTag:
            let n = try r.count(field: "signatures", max: ShardLimits.signaturesPerTransactionMax, minimumElementBytes: 96)
            var results: [SignatureResult] = []
            for _ in 0..<n {
                let id = try r.hash32()
                let sig: ECDSASignature
                do { sig = try ECDSASignature(compact: try r.fixed(64)) } catch let e as ShardError { throw e } catch {
                    throw .malformed("signature is not a valid compact ECDSA signature")
                }
                results.append(SignatureResult(requestID: id, signature: sig))
            }
            return .signatures(results)
        case misbehaviourTag:
            let bytes = try r.variable(field: "evidence", max: ShardLimits.evidenceBytesMax)
            do { return .misbehaviour(try Misbehaviour.decode(bytes[...])) } catch { throw .evidenceRejected(error) }
        case shardKeyTag:
            return .shardKey(ShardKeyRegistration(epoch: try r.u64(), key: try r.publicKey()))
        case mpcBroadcastTag:
            return .mpcBroadcast(try MPCBroadcast(from: &r))
        default:
            throw .unknownTransactionType(tag)
        }
    }
}

/// A deposit to a gateway script with its proof against the relayed header chain, and the parameters that
/// determine the gateway (pHash, sHash, to, nonce → gHash) and the mint (→ nHash).
public struct MintRequest: Sendable, Equatable {
    /// The raw Bitcoin transaction (witness allowed; its txid is computed without it).
    public let depositTransaction: [UInt8]
    public let outputIndex: UInt32
    /// The transaction's position in its block, the block's transaction count and the merkle siblings.
    public let transactionIndex: UInt32
    public let transactionCount: UInt32
    public let siblings: [[UInt8]]
    /// The block holding the deposit, which must be in the relayed chain.
    public let blockHash: [UInt8]
    public let pHash: [UInt8]
    public let sHash: [UInt8]
    /// The 20-byte EVM recipient.
    public let to: [UInt8]
    public let nonce: [UInt8]

    public init(depositTransaction: [UInt8], outputIndex: UInt32, transactionIndex: UInt32, transactionCount: UInt32,
                siblings: [[UInt8]], blockHash: [UInt8], pHash: [UInt8], sHash: [UInt8], to: [UInt8], nonce: [UInt8]) throws(ShardError) {
        guard depositTransaction.count <= ShardLimits.depositTransactionBytesMax else {
            throw .oversize(field: "deposit transaction", count: depositTransaction.count, limit: ShardLimits.depositTransactionBytesMax)
        }
        guard siblings.count <= 32 else { throw .oversize(field: "merkle siblings", count: siblings.count, limit: 32) }
        guard siblings.allSatisfy({ $0.count == 32 }), blockHash.count == 32, pHash.count == 32, sHash.count == 32,
              nonce.count == 32, to.count == 20 else { throw .malformed("mint field of the wrong length") }
        self.depositTransaction = depositTransaction
        self.outputIndex = outputIndex
        self.transactionIndex = transactionIndex
        self.transactionCount = transactionCount
        self.siblings = siblings
        self.blockHash = blockHash
        self.pHash = pHash
        self.sHash = sHash
        self.to = to
        self.nonce = nonce
    }

    /// The deposit's txid (internal byte order), or an error if the bytes are not a transaction.
    public func txid() throws(ShardError) -> [UInt8] {
        do { return try Transaction(parsing: depositTransaction).txid } catch { throw .depositRejected(error) }
    }

    /// gHash = keccak256(pHash ‖ sHash ‖ to ‖ nonce): the gateway script this deposit must pay.
    public var gHash: [UInt8] { try! RenVMHashes.gHash(pHash: pHash, sHash: sHash, to: to, nonce: nonce) }  // lengths checked in init

    /// nHash = keccak256(nonce ‖ txid ‖ vout): the mint's identity, minted at most once.
    public func nHash() throws(ShardError) -> [UInt8] {
        let txid = try txid()
        return try! RenVMHashes.nHash(nonce: nonce, txid: txid, outputIndex: outputIndex)  // lengths checked in init
    }

    func encode(into w: inout CanonicalWriter) {
        w.variable(depositTransaction)
        w.u32(outputIndex)
        w.u32(transactionIndex)
        w.u32(transactionCount)
        w.count(siblings.count)
        for s in siblings { w.fixed(s) }
        w.fixed(blockHash)
        w.fixed(pHash)
        w.fixed(sHash)
        w.fixed(to)
        w.fixed(nonce)
    }

    init(from r: inout CanonicalReader) throws(ShardError) {
        let tx = try r.variable(field: "deposit transaction", max: ShardLimits.depositTransactionBytesMax)
        let vout = try r.u32(), index = try r.u32(), count = try r.u32()
        let n = try r.count(field: "merkle siblings", max: 32, minimumElementBytes: 32)
        var siblings: [[UInt8]] = []
        for _ in 0..<n { siblings.append(try r.hash32()) }
        try self.init(depositTransaction: tx, outputIndex: vout, transactionIndex: index, transactionCount: count,
                      siblings: siblings, blockHash: try r.hash32(), pHash: try r.hash32(), sHash: try r.hash32(),
                      to: try r.fixed(20), nonce: try r.hash32())
    }
}

/// Custody coins to consolidate, sorted by (txid, index) and distinct, and the fee rate in sat/vB.
public struct SweepRequest: Sendable, Equatable {
    public let coins: [OutPoint]
    public let feeRate: UInt64

    public init(coins: [OutPoint], feeRate: UInt64) {
        self.coins = coins
        self.feeRate = feeRate
    }
}

/// Presignature ids (32 bytes each, as the MPC module names them) finished by the committee of `epoch`.
public struct PresignatureBatch: Sendable, Equatable {
    public let epoch: UInt64
    public let ids: [[UInt8]]

    public init(epoch: UInt64, ids: [[UInt8]]) {
        self.epoch = epoch
        self.ids = ids
    }
}

/// A combined signature for a committed request.
public struct SignatureResult: Sendable, Equatable {
    public let requestID: [UInt8]
    public let signature: ECDSASignature

    public init(requestID: [UInt8], signature: ECDSASignature) {
        self.requestID = requestID
        self.signature = signature
    }
}

/// The key the committee of `epoch` generated.
public struct ShardKeyRegistration: Sendable, Equatable {
    public let epoch: UInt64
    public let key: PublicKey

    public init(epoch: UInt64, key: PublicKey) {
        self.epoch = epoch
        self.key = key
    }
}

/// Orders outpoints the way sweeps must list them: by txid bytes, then index.
func outpointPrecedes(_ a: OutPoint, _ b: OutPoint) -> Bool {
    a.txid == b.txid ? a.index < b.index : a.txid.lexicographicallyPrecedes(b.txid)
}
