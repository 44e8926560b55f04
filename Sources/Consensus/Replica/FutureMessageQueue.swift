import Crypto

/// Authentic messages of validators for heights above the current one, per sender, sorted by (height, round,
/// step). Bounded three ways, so that no member can make a replica hold more than its share: one message per
/// (height, round, step) and sender (the first; an equivocator's later ones wait for the height, when peers resend),
/// a count and a byte cap per sender (overflow drops the sender's latest message, the one needed last), and a byte
/// cap over all senders (overflow drops the latest message of the largest queue, so senders within their share keep
/// theirs). Membership is the replica's check before insertion.
struct FutureMessageQueue {
    struct Entry {
        let message: SignedMessage
        /// SHA-256 of the wire bytes, for the replica's duplicate suppression at delivery.
        let digest: SHA256Digest
    }

    private struct SenderQueue {
        var entries: [Entry] = []
        var bytes = 0
    }

    private struct Slot: Comparable {
        let height: Height
        let round: Round
        let step: UInt8

        init(_ m: SignedMessage) {
            height = m.message.height
            round = m.message.round
            step = m.message.step.rawValue
        }

        static func < (a: Slot, b: Slot) -> Bool { (a.height, a.round, a.step) < (b.height, b.round, b.step) }
    }

    let bounds: ReplicaBounds
    private var queues: [ValidatorKey: SenderQueue] = [:]
    private(set) var bytes = 0
    private(set) var count = 0

    init(bounds: ReplicaBounds) { self.bounds = bounds }

    /// Buffers `m` unless its sender already has a message for that slot or the caps leave no room for it.
    /// Returns whether it is held.
    mutating func insert(_ m: SignedMessage, digest: SHA256Digest) -> Bool {
        var queue = queues[m.signer] ?? SenderQueue()
        let slot = Slot(m)
        guard !queue.entries.contains(where: { Slot($0.message) == slot }) else { return false }
        let at = queue.entries.firstIndex { Slot($0.message) > slot } ?? queue.entries.endIndex
        queue.entries.insert(Entry(message: m, digest: digest), at: at)
        queue.bytes += m.wireBytes.count
        bytes += m.wireBytes.count
        count += 1
        while queue.entries.count > bounds.senderQueueMessagesMax || queue.bytes > bounds.senderQueueBytesMax {
            dropLast(of: &queue)
        }
        queues[m.signer] = queue.entries.isEmpty ? nil : queue
        while bytes > bounds.futureQueueBytesMax, let largest = queues.max(by: { $0.value.bytes < $1.value.bytes })?.key {
            var q = queues[largest]!
            dropLast(of: &q)
            queues[largest] = q.entries.isEmpty ? nil : q
        }
        return queues[m.signer]?.entries.contains { $0.digest == digest } ?? false
    }

    /// Removes and returns the messages of `height`, ordered by (round, step) and then by sender; drops the ones
    /// of lower heights.
    mutating func take(height: Height) -> [Entry] {
        var due: [Entry] = []
        for key in queues.keys.sorted() {
            var queue = queues[key]!
            let stale = queue.entries.prefix { $0.message.message.height < height }
            let ready = queue.entries.dropFirst(stale.count).prefix { $0.message.message.height == height }
            let removed = stale.count + ready.count
            let removedBytes = queue.entries.prefix(removed).reduce(0) { $0 + $1.message.wireBytes.count }
            due += ready
            queue.entries.removeFirst(removed)
            queue.bytes -= removedBytes
            bytes -= removedBytes
            count -= removed
            queues[key] = queue.entries.isEmpty ? nil : queue
        }
        // Stable: equal (round, step) keep sender order.
        return due.enumerated().sorted {
            ($0.element.message.message.round, $0.element.message.message.step.rawValue, $0.offset)
                < ($1.element.message.message.round, $1.element.message.message.step.rawValue, $1.offset)
        }.map(\.element)
    }

    private mutating func dropLast(of queue: inout SenderQueue) {
        let last = queue.entries.removeLast()
        queue.bytes -= last.message.wireBytes.count
        bytes -= last.message.wireBytes.count
        count -= 1
    }
}
