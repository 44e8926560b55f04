import Crypto

/// A consensus instance number. Height 0 is genesis; the first height voted on is 1.
public typealias Height = UInt64
/// A round within a height; rounds start at 0.
public typealias Round = UInt32

/// The step of a round (paper: step_p ∈ {propose, prevote, precommit}). Ordered, so `step >= .prevote` reads as in
/// the paper (L36).
public enum Step: UInt8, Comparable, Sendable, CustomStringConvertible {
    case propose = 1
    case prevote = 2
    case precommit = 3

    public static func < (a: Step, b: Step) -> Bool { a.rawValue < b.rawValue }
    public var description: String {
        switch self {
        case .propose: "propose"
        case .prevote: "prevote"
        case .precommit: "precommit"
        }
    }
}

/// The 32-byte identifier id(v) = SHA-256(v) of a proposed value. Votes carry ids, not values (paper §3).
public struct ValueID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(of value: Value) { bytes = Array(SHA256.hash(data: value.bytes)) }

    /// Wraps exactly 32 bytes (decoders only).
    init(raw: [UInt8]) {
        precondition(raw.count == 32)
        bytes = raw
    }

    public var description: String { TraceFormat.shortID(bytes) }
}

/// An opaque application value (a block or a batch). The application decides what is valid.
public struct Value: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    /// id(v), computed once.
    public let id: ValueID

    public init(_ bytes: [UInt8]) {
        precondition(bytes.count <= Limits.valueBytesMax, "value larger than Limits.valueBytesMax")
        self.bytes = bytes
        self.id = ValueID(of: bytes)
    }

    public static func == (a: Value, b: Value) -> Bool { a.id == b.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
    public var description: String { "v:" + id.description }
}

extension ValueID {
    fileprivate init(of bytes: [UInt8]) { self.bytes = Array(SHA256.hash(data: bytes)) }
}

/// A value with the round it was locked or validated in (paper: lockedValue/lockedRound, validValue/validRound).
public struct RoundValue: Hashable, Sendable {
    public let value: Value
    public let round: Round

    public init(value: Value, round: Round) {
        self.value = value
        self.round = round
    }
}

enum TraceFormat {
    /// The first four bytes in hex, enough to tell values apart in traces.
    static func shortID(_ bytes: [UInt8]) -> String {
        bytes.prefix(4).map { String($0, radix: 16).leftPadded(2) }.joined()
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
