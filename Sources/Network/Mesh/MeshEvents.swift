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

extension MeshEvent {
    /// Payload bytes the event holds while it waits for the consumer.
    var bufferedBytes: Int {
        if case .message(let m) = self { m.payload.count } else { 0 }
    }
}

extension Mesh {
    /// Hands an event to the consumer and stops reads on every connection once too much waits.
    func report(_ event: MeshEvent) {
        let limits = configuration.limits
        let pause = state.withLockedValue { s -> [any Channel] in
            s.eventsAwaiting += 1
            s.eventBytesAwaiting += event.bufferedBytes
            s.stats.eventsAwaitingConsumer = s.eventsAwaiting
            guard !s.readsPaused,
                s.eventsAwaiting >= limits.eventBufferMessages || s.eventBytesAwaiting >= limits.eventBufferBytes
            else { return [] }
            s.readsPaused = true
            s.stats.readPauses += 1
            return s.connections.values.map(\.channel)
        }
        continuation.yield(event)
        for channel in pause { applyReadState(channel) }
    }

    /// Reports an event about an unauthenticated connection only while the buffer is less than half full: anyone
    /// can cause these, so they must not be able to pause reads for the admitted peers.
    func reportIfRoom(_ event: MeshEvent) {
        let limits = configuration.limits
        let room = state.withLockedValue { s in
            s.eventsAwaiting < limits.eventBufferMessages / 2 && s.eventBytesAwaiting < limits.eventBufferBytes / 2
        }
        if room { report(event) }
    }

    /// The consumer took `event`: resume reads once the buffer has drained to half.
    func taken(_ event: MeshEvent) {
        let limits = configuration.limits
        let resume = state.withLockedValue { s -> [any Channel] in
            s.eventsAwaiting -= 1
            s.eventBytesAwaiting -= event.bufferedBytes
            s.stats.eventsAwaitingConsumer = s.eventsAwaiting
            guard s.readsPaused, s.eventsAwaiting <= limits.eventBufferMessages / 2,
                s.eventBytesAwaiting <= limits.eventBufferBytes / 2
            else { return [] }
            s.readsPaused = false
            return s.connections.values.map(\.channel)
        }
        for channel in resume { applyReadState(channel) }
    }

    /// Sets the channel's autoRead to the current state on its event loop. The state is read there, not passed
    /// in, so a pause and a resume issued from different threads cannot land in the wrong order.
    func applyReadState(_ channel: any Channel) {
        channel.eventLoop.execute { [self] in
            let paused = state.withLockedValue { $0.readsPaused }
            channel.setOption(ChannelOptions.autoRead, value: !paused).whenFailure { _ in }
        }
    }
}
