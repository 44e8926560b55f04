/// Supplies the value to propose (paper: getValue(), L18). Called at most once per (height, round) by an honest
/// process; the write-ahead log makes a restarted process re-send its earlier proposal instead of asking again.
public protocol ValueProposer {
    mutating func propose(height: Height, round: Round) -> Value
}

/// The validity predicate valid(v) (L23, L29, L36, L50). Processes need not agree on validity; the algorithm only
/// needs that an honest proposer's value is valid for honest processes.
public protocol ValueValidator {
    func isValid(_ value: Value, height: Height) -> Bool
    /// Whether a value decided by a verified commit certificate (2f + 1 precommits) may be applied. Defaults to
    /// `isValid`. An application whose validity includes checks only this process can make (its own key material,
    /// its own view) answers here with the rules every process shares, so a lagging process is never stuck on a
    /// decision its local view cannot confirm.
    func isDecidable(_ value: Value, height: Height) -> Bool
}

extension ValueValidator {
    public func isDecidable(_ value: Value, height: Height) -> Bool { isValid(value, height: height) }
}

/// Receives decisions (L51). It must make the decision durable before returning: the process moves to the next
/// height and the write-ahead log of the decided height may then be discarded. It may return a new validator set
/// that takes effect at the next height (epoch changes are ordered by consensus this way).
public protocol ValueCommitter {
    mutating func commit(_ certificate: CommitCertificate) -> ValidatorSet?
}

/// Everything the process needs from the application.
public typealias ConsensusApplication = ValueProposer & ValueValidator & ValueCommitter
