import Bitcoin
import Consensus
import Secp256k1

/// A relayed Bitcoin header with what the difficulty rules need to verify a fork that starts right after it.
public struct RelayedHeader: Sendable, Equatable {
    public let header: BlockHeader
    public let height: Int
    /// Accumulated work up to and including this header.
    public let chainWork: UInt256
    public let periodStartTime: UInt32
    public let lastNormalBits: UInt32

    public var hash: [UInt8] { header.hash }
}

/// A coin the shard holds on Bitcoin: a deposit (locked by its gateway script, `gHash` set) or a custody output
/// that a sweep produced (`gHash` nil). A sweep's output becomes spendable once every input of the sweep is signed.
public struct CustodyCoin: Sendable, Equatable {
    public let outpoint: OutPoint
    public let value: UInt64
    public let gHash: [UInt8]?
    public internal(set) var spendable: Bool
}

/// A mint the shard accepted: the fields the EVM gateway checks, and the deposit it stands for.
public struct MintRecord: Sendable, Equatable {
    public let nHash: [UInt8]
    public let pHash: [UInt8]
    public let sHash: [UInt8]
    public let to: [UInt8]
    public let amount: UInt64
    public let deposit: OutPoint
}

/// What a signing request signs for.
public enum SigningPurpose: Sendable, Equatable {
    /// The mint digest of a committed mint.
    case mint(MintRecord)
    /// Input `inputIndex` of the sweep with this txid.
    case sweepInput(sweepTxid: [UInt8], inputIndex: UInt32)
}

/// A committed request for one threshold signature: what to sign (digest), why, and the presignature consensus
/// assigned to it. The signing gate produces shares only for these.
public struct SigningRequest: Sendable, Equatable {
    public let id: [UInt8]
    public let digest: [UInt8]
    public let purpose: SigningPurpose
    public let committedAt: UInt64
    public internal(set) var presignature: [UInt8]?
    public internal(set) var signature: ECDSASignature?

    /// For a signed mint: the 65-byte r‖s‖v an EVM MintGateway recovers the shard key from.
    public func mintAuthorisation(shardKey: PublicKey) -> [UInt8]? {
        guard case .mint = purpose, let signature,
              let recoverable = try? RecoverableSignature.find(signature: signature, digest: digest, publicKey: shardKey) else { return nil }
        return recoverable.evm
    }
}

/// A sweep the shard committed: the coins it spends (in input order) and its fee rate, from which every node
/// rebuilds the same unsigned transaction.
public struct SweepRecord: Sendable, Equatable {
    public let txid: [UInt8]
    public let coins: [CustodyCoin]
    public let feeRate: UInt64
    public let committedAt: UInt64
}

/// A validator's proven misbehaviour, recorded once per (offender, height, step).
public struct Offence: Sendable, Equatable, Hashable {
    public let offender: [UInt8]
    public let height: UInt64
    public let kind: UInt8
}

/// What applying a block did, in order, for the node to act on (start signing, publish, log).
public enum ShardEvent: Sendable, Equatable {
    case headersRelayed(tipHeight: Int, reorganised: Bool)
    case shardKeyRegistered(PublicKey)
    case mintAccepted(nHash: [UInt8], amount: UInt64)
    case sweepAccepted(txid: [UInt8], inputs: Int)
    case presignaturesAdded(count: Int)
    /// A request got its presignature: the committee may now sign it (and only it) with that presignature.
    case signingAssigned(requestID: [UInt8], presignature: [UInt8])
    case signed(requestID: [UInt8])
    /// Every input of a sweep is signed: the transaction can be assembled and broadcast.
    case sweepSigned(txid: [UInt8])
    case misbehaviourRecorded(offender: [UInt8], height: UInt64)
    /// An MPC broadcast, delivered to every member in block order.
    case mpcBroadcast(MPCBroadcast)
}
