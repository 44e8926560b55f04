/// Supplies the value to propose (paper: getValue(), L18). Called at most once per (height, round) by an honest
/// process; the write-ahead log makes a restarted process re-send its earlier proposal instead of asking again.
public protocol ValueProposer {
    mutating func propose(height: Height, round: Round) -> Value
}

/// The validity predicate valid(v) (L23, L29, L36, L50). Processes need not agree on validity; the algorithm only
/// needs that an honest proposer's value is valid for honest processes.
public protocol ValueValidator {
    func isValid(_ value: Value, height: Height) -> Bool
}

/// Receives decisions (L51). It must make the decision durable before returning: the process moves to the next
/// height and the write-ahead log of the decided height may then be discarded. It may return a new validator set
/// that takes effect at the next height (epoch changes are ordered by consensus this way).
public protocol ValueCommitter {
    mutating func commit(_ certificate: CommitCertificate) -> ValidatorSet?
}

/// Everything the process needs from the application.
public typealias ConsensusApplication = ValueProposer & ValueValidator & ValueCommitter
