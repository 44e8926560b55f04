import NIOCore

/// Fired down the pipeline once a connection is admitted.
struct MeshReady {
    let peer: AuthenticatedPeer
}

/// Completes a `connect` call when the connection is admitted, or fails it when the channel closes first.
final class ReadyWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<AuthenticatedPeer>
    var completed = false
    init(promise: EventLoopPromise<AuthenticatedPeer>) { self.promise = promise }

    func complete(_ result: Result<AuthenticatedPeer, any Error>) {
        guard !completed else { return }
        completed = true
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let ready = event as? MeshReady {
            complete(.success(ready.peer))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(.failure(AuthenticationError.closed))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        complete(.failure(AuthenticationError.closed))
    }
}
