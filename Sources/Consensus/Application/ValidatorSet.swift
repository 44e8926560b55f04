import Secp256k1

/// The ordered validators of one height, with the thresholds the algorithm uses.
///
/// Every validator has one vote. With n validators the process tolerates f = ⌊(n−1)/3⌋ faulty ones; a quorum is
/// n − f (which is the paper's 2f+1 when n = 3f+1, and stays safe for other n: two quorums overlap in
/// n − 2f ≥ f+1 validators, so in at least one honest one). Hyperdrive takes f from the application and counts
/// 2f+1, which is unsafe when n ≠ 3f+1; we derive both from n.
public struct ValidatorSet: Sendable, Equatable {
    public let keys: [PublicKey]
    /// Proposer weights for the weighted scheduler (all 1 for round-robin). Voting is unweighted.
    public let weights: [UInt64]
    private let indexByKey: [ValidatorKey: Int]
    public let validatorKeys: [ValidatorKey]

    public init(keys: [PublicKey], weights: [UInt64]? = nil) throws(ConsensusError) {
        guard !keys.isEmpty, keys.count <= Limits.validatorsMax else { throw .invalidValidatorSet }
        let ids = keys.map(ValidatorKey.init)
        var index: [ValidatorKey: Int] = [:]
        for (i, id) in ids.enumerated() {
            guard index.updateValue(i, forKey: id) == nil else { throw .invalidValidatorSet }
        }
        let w = weights ?? Array(repeating: 1, count: keys.count)
        guard w.count == keys.count, w.allSatisfy({ $0 > 0 && $0 <= UInt64(UInt32.max) }) else { throw .invalidValidatorSet }
        self.keys = keys
        self.weights = w
        self.indexByKey = index
        self.validatorKeys = ids
    }

    public var count: Int { keys.count }
    /// f: the most faulty validators tolerated.
    public var faultsTolerated: Int { (count - 1) / 3 }
    /// n − f: votes needed to lock or commit (the paper's 2f+1).
    public var quorum: Int { count - faultsTolerated }
    /// f + 1: distinct senders in a higher round that prove one honest process is there (L55).
    public var skipThreshold: Int { faultsTolerated + 1 }

    public func index(of key: ValidatorKey) -> Int? { indexByKey[key] }

    /// Checks `message` was signed by a member of this set, and returns it with the member's index.
    public func verify(_ message: SignedMessage, with verifier: some MessageVerifier) throws(ConsensusError)
        -> VerifiedMessage
    {
        guard let i = indexByKey[message.signer] else { throw .unknownSigner }
        guard verifier.isAuthentic(message, key: keys[i]) else { throw .badSignature }
        return VerifiedMessage(signed: message, validator: i)
    }

    public static func == (a: ValidatorSet, b: ValidatorSet) -> Bool {
        a.validatorKeys == b.validatorKeys && a.weights == b.weights
    }
}

/// A message whose signature has been checked against a validator set. Only `ValidatorSet.verify` makes one, so a
/// function that takes it cannot be handed unchecked input.
public struct VerifiedMessage: Sendable, Hashable {
    public let signed: SignedMessage
    /// The signer's index in the validator set it was verified against.
    public let validator: Int

    public var message: ConsensusMessage { signed.message }
}

/// Chooses the proposer of (height, round) (paper: proposer(h, r)). Must depend only on agreed data.
public protocol ProposerScheduler: Sendable {
    func proposer(height: Height, round: Round, validators: ValidatorSet) -> Int
}

/// proposer(h, r) = validators[(h + r) mod n], as Hyperdrive does.
public struct RoundRobinScheduler: ProposerScheduler {
    public init() {}
    public func proposer(height: Height, round: Round, validators: ValidatorSet) -> Int {
        Int((height &+ UInt64(round)) % UInt64(validators.count))
    }
}

/// Picks proposers in proportion to their weights: slot (h + r) mod Σw, walked through the cumulative weights.
/// Deterministic and cheap; consecutive slots land on the same validator, which is fine because a round change
/// moves to the next slot anyway.
public struct WeightedRoundRobinScheduler: ProposerScheduler {
    public init() {}
    public func proposer(height: Height, round: Round, validators: ValidatorSet) -> Int {
        let total = validators.weights.reduce(0, +)
        var slot = (height &+ UInt64(round)) % total
        for (i, w) in validators.weights.enumerated() {
            if slot < w { return i }
            slot -= w
        }
        preconditionFailure("slot below total weight always lands on a validator")
    }
}
