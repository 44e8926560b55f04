/// A token bucket: `capacity` tokens, refilled at `ratePerSecond`. Time is passed in, so it is testable.
public struct TokenBucket: Sendable {
    public let capacity: Double
    public let ratePerSecond: Double
    private var tokens: Double
    private var lastNanoseconds: UInt64

    public init(capacity: Double, ratePerSecond: Double, nowNanoseconds: UInt64) {
        self.capacity = capacity
        self.ratePerSecond = ratePerSecond
        self.tokens = capacity
        self.lastNanoseconds = nowNanoseconds
    }

    /// Takes `cost` tokens if available; returns false (taking nothing) otherwise.
    public mutating func take(_ cost: Double = 1, nowNanoseconds: UInt64) -> Bool {
        if nowNanoseconds > lastNanoseconds {
            tokens = min(capacity, tokens + Double(nowNanoseconds - lastNanoseconds) / 1e9 * ratePerSecond)
            lastNanoseconds = nowNanoseconds
        }
        guard tokens >= cost else { return false }
        tokens -= cost
        return true
    }
}

/// Exponential reconnect back-off with random jitter, so that restarted nodes do not redial in lock-step.
public struct Backoff: Sendable {
    public let initialMilliseconds: Int64
    public let maximumMilliseconds: Int64
    public let jitter: Double
    public private(set) var attempts = 0

    public init(initialMilliseconds: Int64, maximumMilliseconds: Int64, jitter: Double) {
        self.initialMilliseconds = initialMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
        self.jitter = jitter
    }

    /// The delay before the next attempt, growing ×2 per failure up to the cap, scaled by a factor drawn
    /// uniformly from [1 − jitter, 1].
    public mutating func nextDelayMilliseconds(using rng: inout some RandomNumberGenerator) -> Int64 {
        let exponent = min(attempts, 30)
        attempts += 1
        let base = min(maximumMilliseconds, initialMilliseconds << Int64(exponent))
        let factor = 1 - Double.random(in: 0...jitter, using: &rng)
        return max(1, Int64(Double(base) * factor))
    }

    public mutating func reset() { attempts = 0 }
}
