import NIOCore
import WireCodec

/// The last handler of an admitted connection: hands envelopes and framing errors to the mesh.
final class PeerHandler: ChannelInboundHandler {
    typealias InboundIn = Darknode_V1_Envelope
    let mesh: Mesh
    let connection: ConnectionID

    init(mesh: Mesh, connection: ConnectionID) {
        self.mesh = mesh
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        mesh.run(.received(connection, unwrapInboundIn(data)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is EnvelopeFrameError || error is ByteToMessageDecoderError {
            mesh.run(.malformed(connection, reason: "\(error)"))
        } else {
            // Socket errors (reset, timeout) are the network's doing, not the peer's misbehaviour.
            context.close(promise: nil)
        }
    }
}
