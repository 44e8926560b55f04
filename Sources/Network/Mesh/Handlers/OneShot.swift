import NIOConcurrencyHelpers
import NIOCore

/// A promise that takes its first outcome and ignores later ones, from any thread: a dial's readiness and a
/// ping's answer can each be decided by several racing callbacks (the answer, a timeout, the connection closing).
final class OneShot<Value: Sendable>: Sendable {
    private let promise: EventLoopPromise<Value>
    private let done = NIOLockedValueBox(false)

    init(on loop: any EventLoop) { promise = loop.makePromise(of: Value.self) }

    var future: EventLoopFuture<Value> { promise.futureResult }

    func complete(_ result: Result<Value, any Error>) {
        let first = done.withLockedValue { done in
            defer { done = true }
            return !done
        }
        if first { promise.completeWith(result) }
    }

    func succeed(_ value: Value) { complete(.success(value)) }
    func fail(_ error: any Error) { complete(.failure(error)) }
}
