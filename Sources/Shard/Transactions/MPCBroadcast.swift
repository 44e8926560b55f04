import Crypto
import Secp256k1

/// One MPC broadcast message, signed by the committee member that sent it. The payload is the MPC module's
/// encoding of the message, opaque here: the shard orders it and guarantees (session, sender, round) carries at
/// most one payload per epoch, so a member cannot show two different broadcasts to different members (equivocation
/// is impossible through consensus). The signature stops a proposer from inventing other members' messages.
public struct MPCBroadcast: Sendable, Equatable {
    public let epoch: UInt64
    public let session: [UInt8]
    /// Index of the sender in the committee (0-based).
    public let sender: UInt16
    public let round: UInt16
    public let payload: [UInt8]
    /// Compact ECDSA signature by the sender's identity key over `signingDigest`.
    public let signature: [UInt8]

    public init(epoch: UInt64, session: [UInt8], sender: UInt16, round: UInt16, payload: [UInt8], signature: [UInt8]) throws(ShardError) {
        guard session.count == 32 else { throw .malformed("MPC session id must be 32 bytes") }
        guard payload.count <= ShardLimits.mpcPayloadBytesMax else {
            throw .oversize(field: "MPC payload", count: payload.count, limit: ShardLimits.mpcPayloadBytesMax)
        }
        guard signature.count == 64 else { throw .malformed("MPC broadcast signature must be 64 bytes") }
        self.epoch = epoch
        self.session = session
        self.sender = sender
        self.round = round
        self.payload = payload
        self.signature = signature
    }

    /// Signs as committee member `sender` with its identity key.
    public static func signed(epoch: UInt64, session: [UInt8], sender: UInt16, round: UInt16, payload: [UInt8], key: PrivateKey) throws -> MPCBroadcast {
        let digest = signingDigest(epoch: epoch, session: session, sender: sender, round: round, payload: payload)
        return try MPCBroadcast(epoch: epoch, session: session, sender: sender, round: round, payload: payload,
                                signature: try key.signature(for: digest).compact)
    }

    static func signingDigest(epoch: UInt64, session: [UInt8], sender: UInt16, round: UInt16, payload: [UInt8]) -> [UInt8] {
        var w = CanonicalWriter(capacity: 64 + payload.count)
        w.fixed(Array("darknode/shard/mpc-broadcast/v1".utf8))
        w.u64(epoch)
        w.fixed(session)
        w.u32(UInt32(sender))
        w.u32(UInt32(round))
        w.variable(payload)
        return Array(SHA256.hash(data: w.bytes))
    }

    public var signingDigest: [UInt8] { Self.signingDigest(epoch: epoch, session: session, sender: sender, round: round, payload: payload) }

    /// The slot this message occupies: one payload per (session, sender, round).
    var slot: [UInt8] {
        var w = CanonicalWriter(capacity: 40)
        w.fixed(session)
        w.u32(UInt32(sender))
        w.u32(UInt32(round))
        return Array(SHA256.hash(data: w.bytes))
    }

    func encode(into w: inout CanonicalWriter) {
        w.u64(epoch)
        w.fixed(session)
        w.u32(UInt32(sender))
        w.u32(UInt32(round))
        w.variable(payload)
        w.fixed(signature)
    }

    init(from r: inout CanonicalReader) throws(ShardError) {
        let epoch = try r.u64(), session = try r.hash32()
        let sender = try r.u32(), round = try r.u32()
        guard sender <= UInt32(UInt16.max), round <= UInt32(UInt16.max) else { throw .malformed("MPC sender or round out of range") }
        let payload = try r.variable(field: "MPC payload", max: ShardLimits.mpcPayloadBytesMax)
        try self.init(epoch: epoch, session: session, sender: UInt16(sender), round: UInt16(round), payload: payload, signature: try r.fixed(64))
    }
}
