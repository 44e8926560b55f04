import NIOCore
import Synchronization

/// The consumer's view of the mesh's events: an async sequence that tells the mesh when each event is taken, so
/// the mesh can bound what waits. When the consumer lags, connections stop reading (see
/// `NetworkLimits.eventBufferMessages`) and TCP pushes back on the senders; nothing grows without bound.
/// Single consumer, like the `AsyncStream` underneath.
public struct MeshEvents: AsyncSequence, Sendable {
    public typealias Element = MeshEvent
    let stream: AsyncStream<MeshEvent>
    let taken: @Sendable (MeshEvent) -> Void

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<MeshEvent>.AsyncIterator
        let taken: @Sendable (MeshEvent) -> Void

        public mutating func next() async -> MeshEvent? {
            guard let event = await base.next() else { return nil }
            taken(event)
            return event
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: stream.makeAsyncIterator(), taken: taken) }
}

/// Events the consumer took and the state has not yet counted. The consumer adds here without the mesh's lock
/// (taking it for every event made consumers queue behind the event loops for it); the driver folds the totals
/// into the state at its next input or tick. While reads are paused the consumer reports at once instead, so they
/// resume as soon as it has caught up, and at the latest one tick later if a fold raced with the pause.
final class TakenEvents: Sendable {
    private let count = Atomic<Int>(0)
    private let bytes = Atomic<Int>(0)
    private let paused = Atomic<Bool>(false)

    /// Counts one taken event; true when the driver should fold now (reads are paused).
    func add(bytes eventBytes: Int) -> Bool {
        bytes.add(eventBytes, ordering: .relaxed)
        count.add(1, ordering: .releasing)
        return paused.load(ordering: .acquiring)
    }

    /// The totals since the last call, reset to zero; nil when there are none.
    func drain() -> (count: Int, bytes: Int)? {
        guard count.load(ordering: .relaxed) > 0 else { return nil }
        let taken = count.exchange(0, ordering: .acquiring)
        return (taken, bytes.exchange(0, ordering: .relaxed))
    }

    /// What the consumer should assume about reads (set by the driver under its lock after every input).
    /// Written only when it changes: the consumers read this line for every event they take.
    func setReadsPaused(_ value: Bool) {
        if paused.load(ordering: .relaxed) != value { paused.store(value, ordering: .releasing) }
    }
}
