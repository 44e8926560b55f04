/// A point on a simulation's virtual clock, in nanoseconds since the run began. Virtual time only moves when the
/// simulator takes the next event, so a run costs CPU for events, not for waiting.
public struct VirtualInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static let zero = VirtualInstant(nanoseconds: 0)

    public static func < (a: VirtualInstant, b: VirtualInstant) -> Bool { a.nanoseconds < b.nanoseconds }

    public static func + (a: VirtualInstant, d: Duration) -> VirtualInstant {
        VirtualInstant(nanoseconds: a.nanoseconds + d.nanoseconds)
    }

    public static func - (a: VirtualInstant, b: VirtualInstant) -> Duration {
        .nanoseconds(Int64(a.nanoseconds) - Int64(b.nanoseconds))
    }

    public var description: String {
        let ms = nanoseconds / 1_000_000
        return "t=\(ms / 1000).\(String(ms % 1000).leftPadded(3))s"
    }
}

extension Duration {
    /// Whole non-negative nanoseconds (simulation durations are never negative).
    public var nanoseconds: UInt64 {
        let (s, atto) = components
        precondition(s >= 0 && atto >= 0, "negative simulation duration")
        return UInt64(s) * 1_000_000_000 + UInt64(atto / 1_000_000_000)
    }
}

/// A probability as an integer ratio, so runs do not depend on floating-point rounding (TigerBeetle's `Ratio`).
public struct Ratio: Hashable, Sendable, CustomStringConvertible {
    public let numerator: UInt64
    public let denominator: UInt64

    public init(_ numerator: UInt64, _ denominator: UInt64) {
        precondition(denominator > 0 && numerator <= denominator)
        self.numerator = numerator
        self.denominator = denominator
    }

    public static let never = Ratio(0, 1)
    public static let always = Ratio(1, 1)
    public var description: String { "\(numerator)/\(denominator)" }
}

extension DeterministicRNG {
    /// True with probability `ratio`.
    public mutating func chance(_ ratio: Ratio) -> Bool {
        ratio.numerator > 0 && UInt64.random(in: 0..<ratio.denominator, using: &self) < ratio.numerator
    }

    /// A uniformly random duration in `range` (nanosecond resolution).
    public mutating func duration(in range: ClosedRange<Duration>) -> Duration {
        .nanoseconds(Int64(UInt64.random(in: range.lowerBound.nanoseconds...range.upperBound.nanoseconds, using: &self)))
    }

    /// A uniformly random index below `count`.
    public mutating func index(_ count: Int) -> Int { Int.random(in: 0..<count, using: &self) }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
