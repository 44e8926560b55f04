import NIOCore

/// The decider's one-byte answer on a new connection.
enum ConnectionVerdict {
    static let keep: UInt8 = 1
    static let drop: UInt8 = 0
}

/// On the non-deciding side: waits for the verdict byte, then installs the connection or drops it, and
/// passes on any bytes that followed the verdict. The wait is bounded: an authenticated peer that never decides
/// would otherwise hold the connection (and a dialler's `connect`) forever.
final class ConnectionVerdictHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let mesh: Mesh
    let role: ConnectionRole
    let peer: AuthenticatedPeer
    let address: String?
    let timeout: TimeAmount
    var decided = false
    var timer: Scheduled<Void>?

    init(mesh: Mesh, role: ConnectionRole, peer: AuthenticatedPeer, address: String?, timeout: TimeAmount) {
        self.mesh = mesh
        self.role = role
        self.peer = peer
        self.address = address
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            guard !handler.decided else { return }
            handler.decided = true
            handler.mesh.malformed(peer: handler.peer.identity, channel: context.channel, error: AuthenticationError.timeout)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        guard let verdict = buffer.readInteger(as: UInt8.self) else { return }
        decided = true
        timer?.cancel()
        switch verdict {
        case ConnectionVerdict.keep:
            mesh.install(channel: context.channel, role: role, peer: peer, address: address)
            if buffer.readableBytes > 0 { context.fireChannelRead(NIOAny(buffer)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case ConnectionVerdict.drop:
            let existing = mesh.state.withLockedValue { $0.connections[peer.identity]?.peer }
            mesh.drop(channel: context.channel, existing: existing)
        default:
            mesh.malformed(peer: peer.identity, channel: context.channel, error: EnvelopeFrameError.invalidField("connection verdict"))
        }
    }
}
