import NIOCore

/// Fired down the pipeline once a connection is admitted (or lost the tie-break to `peer`'s installed one).
struct MeshReady {
    let peer: AuthenticatedPeer
}

/// Completes a `connect` call when the connection is admitted, or fails it when the channel closes first.
final class ReadyWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let ready: OneShot<AuthenticatedPeer>
    init(ready: OneShot<AuthenticatedPeer>) { self.ready = ready }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? MeshReady {
            ready.succeed(event.peer)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        ready.fail(AuthenticationError.closed)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { ready.fail(AuthenticationError.closed) }
}
