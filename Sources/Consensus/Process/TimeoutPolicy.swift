/// The three timeouts, which grow linearly with the round so that after GST they eventually exceed the message
/// delay (paper §3: timeoutX(r) = initTimeoutX + r · timeoutDelta).
public struct TimeoutPolicy: Sendable, Equatable {
    public var proposeBase: Duration
    public var prevoteBase: Duration
    public var precommitBase: Duration
    /// Added per round to every timeout.
    public var delta: Duration

    public init(proposeBase: Duration, prevoteBase: Duration, precommitBase: Duration, delta: Duration) {
        self.proposeBase = proposeBase
        self.prevoteBase = prevoteBase
        self.precommitBase = precommitBase
        self.delta = delta
    }

    /// Hyperdrive's defaults (20 s growing by 10 s per round), suited to a WAN.
    public static let wideArea = TimeoutPolicy(
        proposeBase: .seconds(20), prevoteBase: .seconds(20), precommitBase: .seconds(20), delta: .seconds(10))

    public func duration(_ step: Step, round: Round) -> Duration {
        let base: Duration =
            switch step {
            case .propose: proposeBase
            case .prevote: prevoteBase
            case .precommit: precommitBase
            }
        return base + delta * Int(round)
    }
}

/// A scheduled OnTimeoutX(height, round) call (L57, L61, L65).
public struct Timeout: Hashable, Sendable, CustomStringConvertible {
    public let step: Step
    public let height: Height
    public let round: Round

    public init(step: Step, height: Height, round: Round) {
        self.step = step
        self.height = height
        self.round = round
    }

    public var description: String { "timeout\(step)(h\(height) r\(round))" }
}
