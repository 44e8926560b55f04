import Secp256k1

/// Proof that a validator broke the protocol, made only of its own signed messages, so anyone holding the validator
/// set (and, for out-of-turn proposals, the scheduler) of that height can check it (CometBFT `evidence.md`).
public enum Misbehaviour: Hashable, Sendable, CustomStringConvertible {
    /// Two different proposals for one (height, round).
    case doublePropose(SignedMessage, SignedMessage)
    /// Two different prevotes for one (height, round).
    case doublePrevote(SignedMessage, SignedMessage)
    /// Two different precommits for one (height, round).
    case doublePrecommit(SignedMessage, SignedMessage)
    /// A proposal from a validator that is not proposer(height, round).
    case outOfTurnPropose(SignedMessage)

    /// The misbehaving validator.
    public var offender: ValidatorKey {
        switch self {
        case .doublePropose(let a, _), .doublePrevote(let a, _), .doublePrecommit(let a, _), .outOfTurnPropose(let a):
            a.signer
        }
    }

    public var height: Height {
        switch self {
        case .doublePropose(let a, _), .doublePrevote(let a, _), .doublePrecommit(let a, _), .outOfTurnPropose(let a):
            a.message.height
        }
    }

    public var description: String {
        switch self {
        case .doublePropose(let a, let b): "double propose: \(a) / \(b)"
        case .doublePrevote(let a, let b): "double prevote: \(a) / \(b)"
        case .doublePrecommit(let a, let b): "double precommit: \(a) / \(b)"
        case .outOfTurnPropose(let a): "out-of-turn propose: \(a)"
        }
    }

    /// Makes the evidence for two conflicting messages, or nil if they do not conflict.
    static func conflict(_ a: SignedMessage, _ b: SignedMessage) -> Misbehaviour? {
        guard a.signer == b.signer, a.message != b.message, a.message.height == b.message.height,
            a.message.round == b.message.round, a.message.step == b.message.step
        else { return nil }
        switch a.message.step {
        case .propose: return .doublePropose(a, b)
        case .prevote: return .doublePrevote(a, b)
        case .precommit: return .doublePrecommit(a, b)
        }
    }

    /// Checks the evidence against the validator set and scheduler of its height. Throws if it proves nothing.
    public func verify(
        validators: ValidatorSet, scheduler: some ProposerScheduler, with verifier: some MessageVerifier
    ) throws(ConsensusError) {
        switch self {
        case .doublePropose(let a, let b), .doublePrevote(let a, let b), .doublePrecommit(let a, let b):
            guard let made = Misbehaviour.conflict(a, b), made.kindMatches(self) else { throw .notMisbehaviour }
            _ = try validators.verify(a, with: verifier)
            _ = try validators.verify(b, with: verifier)
        case .outOfTurnPropose(let p):
            guard case .proposal = p.message else { throw .notMisbehaviour }
            let signer = try validators.verify(p, with: verifier).validator
            let expected = scheduler.proposer(height: p.message.height, round: p.message.round, validators: validators)
            guard signer != expected else { throw .notMisbehaviour }
        }
    }

    private func kindMatches(_ other: Misbehaviour) -> Bool {
        switch (self, other) {
        case (.doublePropose, .doublePropose), (.doublePrevote, .doublePrevote), (.doublePrecommit, .doublePrecommit):
            true
        default: false
        }
    }

    /// `tag u8 (1 double propose, 2 double prevote, 3 double precommit, 4 out of turn) ‖ count u8` then each signed
    /// message as `length u32 ‖ wire bytes`.
    public var encoded: [UInt8] {
        let (tag, messages): (UInt8, [SignedMessage]) =
            switch self {
            case .doublePropose(let a, let b): (1, [a, b])
            case .doublePrevote(let a, let b): (2, [a, b])
            case .doublePrecommit(let a, let b): (3, [a, b])
            case .outOfTurnPropose(let a): (4, [a])
            }
        var w = ByteWriter(capacity: 256)
        w.u8(tag)
        w.u8(UInt8(messages.count))
        for m in messages {
            let wire = m.wireBytes
            w.u32(UInt32(wire.count))
            w.raw(wire)
        }
        return w.bytes
    }

    public static func decode(_ bytes: ArraySlice<UInt8>) throws(ConsensusError) -> Misbehaviour {
        guard bytes.count <= 2 * Limits.signedMessageBytesMax + 16 else { throw .oversize(bytes.count) }
        var r = ByteReader(bytes)
        let tag = try r.u8()
        let count = Int(try r.u8())
        let expected = tag == 4 ? 1 : 2
        guard (1...4).contains(tag) else { throw .unknownKind(tag) }
        guard count == expected else { throw .notMisbehaviour }
        var messages: [SignedMessage] = []
        for _ in 0..<count {
            let length = Int(try r.u32())
            guard length <= Limits.signedMessageBytesMax else { throw .oversize(length) }
            messages.append(try SignedMessage.decode(try r.raw(length)))
        }
        try r.finish()
        switch tag {
        case 1: return .doublePropose(messages[0], messages[1])
        case 2: return .doublePrevote(messages[0], messages[1])
        case 3: return .doublePrecommit(messages[0], messages[1])
        default: return .outOfTurnPropose(messages[0])
        }
    }
}
