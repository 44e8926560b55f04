import NIOCore
import WireCodec

/// The last handler of an admitted connection: hands envelopes to the mesh and reports errors and closure.
final class PeerHandler: ChannelInboundHandler {
    typealias InboundIn = Darknode_V1_Envelope
    let mesh: Mesh
    let peer: PeerID

    init(mesh: Mesh, peer: PeerID) {
        self.mesh = mesh
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        mesh.receive(unwrapInboundIn(data), from: peer, channel: context.channel)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is EnvelopeFrameError || error is ByteToMessageDecoderError {
            mesh.malformed(peer: peer, channel: context.channel, error: error)
        } else {
            // Socket errors (reset, timeout) are the network's doing, not the peer's misbehaviour.
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        mesh.closed(peer: peer, channel: context.channel, reason: "connection closed")
        context.fireChannelInactive()
    }
}
