import NIOCore

/// The decider's one-byte answer on a new connection.
enum ConnectionVerdict {
    static let keep: UInt8 = 1
    static let drop: UInt8 = 0
}

/// On the non-deciding side: hands the verdict byte to the mesh, then passes on any bytes that followed it and
/// leaves the pipeline. The wait is bounded by the mesh's timer (`verdictTimeout`).
final class ConnectionVerdictHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let mesh: Mesh
    let connection: ConnectionID
    var decided = false

    init(mesh: Mesh, connection: ConnectionID) {
        self.mesh = mesh
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        guard let verdict = buffer.readInteger(as: UInt8.self) else { return }
        decided = true
        switch verdict {
        case ConnectionVerdict.keep, ConnectionVerdict.drop:
            // On keep the mesh installs the envelope handlers behind this one before the rest is passed on.
            mesh.run(.verdict(connection, keep: verdict == ConnectionVerdict.keep))
            if buffer.readableBytes > 0 { context.fireChannelRead(NIOAny(buffer)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        default:
            mesh.run(.malformed(connection, reason: "\(EnvelopeFrameError.invalidField("connection verdict"))"))
        }
    }
}
