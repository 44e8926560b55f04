import NIOCore

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
