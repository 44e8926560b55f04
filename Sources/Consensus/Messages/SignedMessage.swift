import Secp256k1
import WireCodec

/// A validator's identity: its compressed secp256k1 public key (33 bytes), compared as bytes so that lookups need
/// no point decompression.
public struct ValidatorKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let compressed: [UInt8]

    public init(_ key: PublicKey) { compressed = key.compressed }

    init(raw: [UInt8]) { compressed = raw }

    public static func < (a: ValidatorKey, b: ValidatorKey) -> Bool { a.compressed.lexicographicallyPrecedes(b.compressed) }
    public var description: String { TraceFormat.shortID(Array(compressed.dropFirst())) }
}

/// A message with its signer and signature, holding the exact bytes that were signed.
///
/// Encoding (all integers big-endian): `version u8 = 1 ‖ kind u8 ‖ height u64 ‖ round u32 ‖ signer [33]` then, for a
/// proposal, `hasValidRound u8 ‖ [validRound u32] ‖ valueLength u32 ‖ value`, and for a vote,
/// `hasValue u8 ‖ [id(v) 32]`. The wire form is those bytes followed by the 64-byte compact signature over
/// SHA-256("darknode.consensus.v1" ‖ 0x00 ‖ bytes), the digest `SignedPayload` uses everywhere in the project.
/// The signer is inside the signed bytes, so a signature cannot be re-attributed.
public struct SignedMessage: Hashable, Sendable, CustomStringConvertible {
    public static let version: UInt8 = 1
    public static let domain = "darknode.consensus.v1"

    public let message: ConsensusMessage
    public let signer: ValidatorKey
    /// The exact bytes the signature covers, as received.
    public let signedBytes: [UInt8]
    /// The 64-byte compact (r ‖ s) signature, lower-S.
    public let signature: [UInt8]

    /// signedBytes ‖ signature: what goes on the wire.
    public var wireBytes: [UInt8] { signedBytes + signature }

    /// The digest the signature is over.
    public var digest: [UInt8] { Darknode_V1_SignedPayload.digest(domain: Self.domain, payload: signedBytes) }

    /// Encodes and signs `message`. The signer is any identity key; honest code reaches this only through the
    /// process's double-sign guard (`ConsensusProcess.sign`).
    public static func sign(_ message: ConsensusMessage, with signer: some ConsensusSigner) -> SignedMessage {
        let bytes = encode(message, signer: signer.key)
        let signature = signer.sign(digest: Darknode_V1_SignedPayload.digest(domain: domain, payload: bytes))
        return SignedMessage(message: message, signer: signer.key, signedBytes: bytes, signature: signature)
    }

    /// Parses the structure of a wire message. Nothing is trusted until a verifier checks the signature.
    public static func decode(_ wire: ArraySlice<UInt8>) throws(ConsensusError) -> SignedMessage {
        guard wire.count <= Limits.signedMessageBytesMax else { throw .oversize(wire.count) }
        var reader = ByteReader(wire)
        let (message, signer) = try decodeBody(&reader)
        let signedEnd = reader.offset
        let signature = try reader.raw(64)
        try reader.finish()
        return SignedMessage(
            message: message, signer: signer, signedBytes: Array(wire[wire.startIndex..<signedEnd]),
            signature: Array(signature))
    }

    /// Checks the signature over the exact bytes received under `key`, which the caller looked up by `signer`.
    public func isSignedBy(_ key: PublicKey) -> Bool {
        guard let sig = try? ECDSASignature(compact: signature) else { return false }
        return key.isValidSignature(sig, for: digest)
    }

    public var description: String { "\(message) by \(signer)" }

    static func encode(_ message: ConsensusMessage, signer: ValidatorKey) -> [UInt8] {
        var w = ByteWriter(capacity: 96)
        w.u8(version)
        w.u8(message.kind.rawValue)
        w.u64(message.height)
        w.u32(message.round)
        w.raw(signer.compressed)
        switch message {
        case .proposal(let p):
            if let vr = p.validRound {
                w.u8(1)
                w.u32(vr)
            } else {
                w.u8(0)
            }
            w.u32(UInt32(p.value.bytes.count))
            w.raw(p.value.bytes)
        case .vote(let v):
            if let id = v.valueID {
                w.u8(1)
                w.raw(id.bytes)
            } else {
                w.u8(0)
            }
        }
        return w.bytes
    }

    static func decodeBody(_ r: inout ByteReader) throws(ConsensusError) -> (ConsensusMessage, ValidatorKey) {
        let version = try r.u8()
        guard version == Self.version else { throw .unknownVersion(version) }
        let kindByte = try r.u8()
        guard let kind = MessageKind(rawValue: kindByte), kind != .certificate else { throw .unknownKind(kindByte) }
        let height = try r.u64()
        guard height >= 1 else { throw .invalidHeight }
        let round = try r.u32()
        guard round <= Limits.roundMax else { throw .invalidRound }
        let signerBytes = Array(try r.raw(33))
        guard signerBytes[0] == 2 || signerBytes[0] == 3 else { throw .invalidSigner }
        let signer = ValidatorKey(raw: signerBytes)
        switch kind {
        case .proposal:
            var validRound: Round?
            switch try r.u8() {
            case 0: validRound = nil
            case 1:
                let vr = try r.u32()
                guard vr < round else { throw .invalidRound }
                validRound = vr
            case let flag: throw .invalidFlag(flag)
            }
            let length = Int(try r.u32())
            guard length <= Limits.valueBytesMax else { throw .oversize(length) }
            let value = Value(Array(try r.raw(length)))
            return (.proposal(Proposal(height: height, round: round, validRound: validRound, value: value)), signer)
        case .prevote, .precommit:
            var id: ValueID?
            switch try r.u8() {
            case 0: id = nil
            case 1: id = ValueID(raw: Array(try r.raw(32)))
            case let flag: throw .invalidFlag(flag)
            }
            let step: VoteStep = kind == .prevote ? .prevote : .precommit
            return (.vote(Vote(step: step, height: height, round: round, valueID: id)), signer)
        case .certificate:
            throw .unknownKind(kindByte)
        }
    }
}
