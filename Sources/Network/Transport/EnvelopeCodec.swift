import Foundation
import NIOCore
import WireCodec

/// Why an envelope frame from an authenticated peer was refused. Any of these closes that connection.
public enum EnvelopeFrameError: Error, Equatable, Sendable {
    /// The length prefix exceeds the maximum message size (checked before buffering the body).
    case oversize(length: Int, maximum: Int)
    /// The frame body is not a valid Envelope protobuf.
    case malformedEnvelope
    /// The envelope's version is not one we speak.
    case unsupportedVersion(UInt32)
    /// The envelope's kind is unspecified or unknown.
    case unknownKind(Int)
    /// A field has the wrong size for its kind (e.g. a sender that is not a 33-byte key, a 31-byte hash).
    case invalidField(String)
}

/// Envelope format version spoken by this build.
let envelopeVersion: UInt32 = 1

/// Decodes `u32 big-endian length ‖ Envelope` frames, validating each envelope's shape.
struct EnvelopeFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = Darknode_V1_Envelope
    let maximumMessageBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= maximumMessageBytes else {
            throw EnvelopeFrameError.oversize(length: Int(length), maximum: maximumMessageBytes)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let body = buffer.readBytes(length: Int(length))!
        let envelope = try Self.parse(body)
        context.fireChannelRead(wrapInboundOut(envelope))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    /// Parses and validates one envelope body.
    static func parse(_ body: [UInt8]) throws(EnvelopeFrameError) -> Darknode_V1_Envelope {
        guard let envelope = try? Darknode_V1_Envelope(serializedBytes: body) else { throw .malformedEnvelope }
        guard envelope.version == envelopeVersion else { throw .unsupportedVersion(envelope.version) }
        switch envelope.kind {
        case .direct, .broadcast, .ping, .pong, .peerAddresses, .attestationChallenge, .attestationResponse:
            break
        case .gossipPush, .gossipPull, .gossipContent, .syncRequest:
            guard envelope.contentHash.count == 32 else { throw .invalidField("content_hash") }
        case .unspecified, .UNRECOGNIZED:
            throw .unknownKind(envelope.kind.rawValue)
        }
        guard envelope.sender.isEmpty || envelope.sender.count == 33 else { throw .invalidField("sender") }
        guard envelope.sessionID.count <= 64 else { throw .invalidField("session_id") }
        guard envelope.topic.utf8.count <= 128 else { throw .invalidField("topic") }
        return envelope
    }
}

/// Encodes envelopes as `u32 big-endian length ‖ Envelope`.
struct EnvelopeFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = Darknode_V1_Envelope

    func encode(data: Darknode_V1_Envelope, out: inout ByteBuffer) throws {
        let bytes: [UInt8] = try data.serializedBytes()
        out.writeInteger(UInt32(bytes.count))
        out.writeBytes(bytes)
    }
}
