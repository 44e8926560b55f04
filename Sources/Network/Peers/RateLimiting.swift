/// A token bucket: `capacity` tokens, refilled at `ratePerSecond`. Time is passed in, so it is testable.
public struct TokenBucket: Sendable {
    public let capacity: Double
    public let ratePerSecond: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    public init(capacity: Double, ratePerSecond: Double, now: ContinuousClock.Instant) {
        self.capacity = capacity
        self.ratePerSecond = ratePerSecond
        self.tokens = capacity
        self.last = now
    }

    /// Takes `cost` tokens if available; returns false (taking nothing) otherwise. Runs once per received message,
    /// so the refill is plain arithmetic on the elapsed time's components.
    public mutating func take(_ cost: Double = 1, now: ContinuousClock.Instant) -> Bool {
        if now > last {
            let (seconds, attoseconds) = (now - last).components
            let elapsedSeconds = Double(seconds) + Double(attoseconds) / 1e18
            tokens = min(capacity, tokens + elapsedSeconds * ratePerSecond)
            last = now
        }
        guard tokens >= cost else { return false }
        tokens -= cost
        return true
    }
}

/// Exponential reconnect back-off with random jitter, so that restarted nodes do not redial in lock-step.
public struct Backoff: Sendable {
    public let initial: Duration
    public let maximum: Duration
    public let jitter: Double
    public private(set) var attempts = 0

    public init(initial: Duration, maximum: Duration, jitter: Double) {
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The delay before the next attempt, growing ×2 per failure up to the cap, scaled by a factor drawn
    /// uniformly from [1 − jitter, 1], in whole milliseconds (at least one).
    public mutating func nextDelay(using rng: inout some RandomNumberGenerator) -> Duration {
        let exponent = min(attempts, 30)
        attempts += 1
        let base = min(maximum, initial * (1 << exponent))
        let factor = 1 - Double.random(in: 0...jitter, using: &rng)
        return .milliseconds(max(1, Int64(Double(base.wholeMilliseconds) * factor)))
    }

    public mutating func reset() { attempts = 0 }
}

extension Duration {
    /// The duration truncated to whole milliseconds (toward zero): the unit of the back-off and of the node's
    /// `-ms` settings.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
