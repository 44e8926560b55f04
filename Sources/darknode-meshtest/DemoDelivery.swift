/// What one `net demo` node received from one sender, by message identity: each payload starts with the sender's
/// sequence number (big-endian), so "exactly once" means every number in 0..<expected arrived and none twice — a
/// count alone would let a duplicate hide a loss.
struct DemoDelivery {
    static let sequenceBytes = 4

    let expected: Int
    private var seen: [Bool]
    private(set) var received = 0
    private(set) var distinct = 0
    private(set) var duplicates = 0
    /// Payloads too short for a sequence number, or numbered outside 0..<expected.
    private(set) var malformed = 0

    init(expected: Int) {
        self.expected = expected
        seen = [Bool](repeating: false, count: expected)
    }

    var missing: Int { expected - distinct }
    var isComplete: Bool { distinct == expected }

    static func stamp(_ payload: inout [UInt8], sequence: UInt32) {
        withUnsafeBytes(of: sequence.bigEndian) { payload.replaceSubrange(0..<sequenceBytes, with: $0) }
    }

    mutating func record(_ payload: [UInt8]) {
        received += 1
        guard payload.count >= Self.sequenceBytes else {
            malformed += 1
            return
        }
        let sequence = payload.prefix(Self.sequenceBytes).reduce(0) { $0 << 8 | Int($1) }
        guard sequence < expected else {
            malformed += 1
            return
        }
        if seen[sequence] {
            duplicates += 1
        } else {
            seen[sequence] = true
            distinct += 1
        }
    }
}
