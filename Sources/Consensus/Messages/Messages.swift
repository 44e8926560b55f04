/// What a packet holds; the second byte of every encoding.
public enum MessageKind: UInt8, Sendable {
    case proposal = 1
    case prevote = 2
    case precommit = 3
    case certificate = 4
}

/// The two vote steps (paper: PREVOTE and PRECOMMIT).
public enum VoteStep: UInt8, Hashable, Sendable, CustomStringConvertible {
    case prevote = 2
    case precommit = 3

    public var step: Step { self == .prevote ? .prevote : .precommit }
    public var description: String { step.description }
}

/// ⟨PROPOSAL, h, round, v, validRound⟩ (paper L19). `validRound` nil is the paper's −1.
public struct Proposal: Hashable, Sendable {
    public let height: Height
    public let round: Round
    public let validRound: Round?
    public let value: Value

    public init(height: Height, round: Round, validRound: Round?, value: Value) {
        precondition(height >= 1 && round <= Limits.roundMax && (validRound.map { $0 < round } ?? true))
        self.height = height
        self.round = round
        self.validRound = validRound
        self.value = value
    }
}

/// ⟨PREVOTE, h, round, id(v)⟩ or ⟨PRECOMMIT, h, round, id(v)⟩; `valueID` nil is a vote for nil.
public struct Vote: Hashable, Sendable {
    public let step: VoteStep
    public let height: Height
    public let round: Round
    public let valueID: ValueID?

    public init(step: VoteStep, height: Height, round: Round, valueID: ValueID?) {
        precondition(height >= 1 && round <= Limits.roundMax)
        self.step = step
        self.height = height
        self.round = round
        self.valueID = valueID
    }
}

/// A proposal or a vote.
public enum ConsensusMessage: Hashable, Sendable, CustomStringConvertible {
    case proposal(Proposal)
    case vote(Vote)

    public var height: Height {
        switch self {
        case .proposal(let p): p.height
        case .vote(let v): v.height
        }
    }

    public var round: Round {
        switch self {
        case .proposal(let p): p.round
        case .vote(let v): v.round
        }
    }

    /// The step this message belongs to: one honest signature per (height, round, step).
    public var step: Step {
        switch self {
        case .proposal: .propose
        case .vote(let v): v.step.step
        }
    }

    public var kind: MessageKind {
        switch self {
        case .proposal: .proposal
        case .vote(let v): v.step == .prevote ? .prevote : .precommit
        }
    }

    public var description: String {
        switch self {
        case .proposal(let p):
            "PROPOSAL(h\(p.height) r\(p.round) vr\(p.validRound.map(String.init) ?? "-1") \(p.value))"
        case .vote(let v):
            "\(v.step == .prevote ? "PREVOTE" : "PRECOMMIT")(h\(v.height) r\(v.round) \(v.valueID?.description ?? "nil"))"
        }
    }
}
