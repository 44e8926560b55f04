import Secp256k1

/// Proof that a value was decided at a height: the value and a quorum of signed precommits for id(value) in one
/// round (paper L49). A lagging replica that checks it against its own validator set may decide the value without
/// having seen the round (catch-up); anyone holding the set can check it.
///
/// Encoding: `version u8 = 1 ‖ kind u8 = 4 ‖ height u64 ‖ round u32 ‖ valueLength u32 ‖ value ‖ count u16` then
/// `count` signed precommits in wire form (144 bytes each), in validator order.
public struct CommitCertificate: Hashable, Sendable, CustomStringConvertible {
    public let height: Height
    public let round: Round
    public let value: Value
    public let precommits: [SignedMessage]

    public init(height: Height, round: Round, value: Value, precommits: [SignedMessage]) {
        self.height = height
        self.round = round
        self.value = value
        self.precommits = precommits
    }

    public var description: String { "certificate(h\(height) r\(round) \(value) ×\(precommits.count))" }

    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: 24 + value.bytes.count + precommits.count * 144)
        w.u8(SignedMessage.version)
        w.u8(MessageKind.certificate.rawValue)
        w.u64(height)
        w.u32(round)
        w.u32(UInt32(value.bytes.count))
        w.raw(value.bytes)
        w.u16(UInt16(precommits.count))
        for p in precommits { w.raw(p.wireBytes) }
        return w.bytes
    }

    /// Parses the structure; `verify` checks it.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(ConsensusError) -> CommitCertificate {
        guard bytes.count <= Limits.certificateBytesMax else { throw .oversize(bytes.count) }
        var r = ByteReader(bytes)
        let version = try r.u8()
        guard version == SignedMessage.version else { throw .unknownVersion(version) }
        let kind = try r.u8()
        guard kind == MessageKind.certificate.rawValue else { throw .unknownKind(kind) }
        let height = try r.u64()
        guard height >= 1 else { throw .invalidHeight }
        let round = try r.u32()
        guard round <= Limits.roundMax else { throw .invalidRound }
        let length = Int(try r.u32())
        guard length <= Limits.valueBytesMax else { throw .oversize(length) }
        let value = Value(Array(try r.raw(length)))
        let count = Int(try r.u16())
        guard count <= Limits.validatorsMax else { throw .oversize(count) }
        var precommits: [SignedMessage] = []
        precommits.reserveCapacity(count)
        for _ in 0..<count {
            // A precommit for a value has a fixed size: 80 signed bytes and a 64-byte signature.
            precommits.append(try SignedMessage.decode(try r.raw(144)))
        }
        try r.finish()
        return CommitCertificate(height: height, round: round, value: value, precommits: precommits)
    }

    /// Checks every precommit is for (height, round, id(value)), signed by a distinct member of `validators`, and
    /// that there is a quorum of them.
    public func verify(against validators: ValidatorSet, with verifier: some MessageVerifier) throws(ConsensusError)
        -> VerifiedCertificate
    {
        let expected = ConsensusMessage.vote(Vote(step: .precommit, height: height, round: round, valueID: value.id))
        var signers = Set<Int>()
        for p in precommits {
            guard p.message == expected else { throw .inconsistentCertificate }
            let verified = try validators.verify(p, with: verifier)
            guard signers.insert(verified.validator).inserted else { throw .inconsistentCertificate }
        }
        guard signers.count >= validators.quorum else {
            throw .insufficientQuorum(have: signers.count, need: validators.quorum)
        }
        return VerifiedCertificate(certificate: self)
    }
}

/// A certificate checked against the validator set of its height; only `CommitCertificate.verify` makes one.
public struct VerifiedCertificate: Hashable, Sendable {
    public let certificate: CommitCertificate
}
