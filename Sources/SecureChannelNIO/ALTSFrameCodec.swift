#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import SecureChannel

/// Decodes ALTS record frames into plaintext `ByteBuffer`s. Frames must arrive in order; any failure is final
/// (the `ByteToMessageHandler` stops decoding after an error and we close the channel in `errorCaught`).
public struct ALTSFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// The most a `ByteToMessageHandler` around this decoder needs to buffer: one maximal frame plus its header.
    public static let maximumBufferSize = ALTSRecordProtector.maxReceiveFrameSize + ALTSRecordProtector.headerLength

    var opener: ALTSOpener

    public init(opener: ALTSOpener) {
        self.opener = opener
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self),
            let type = buffer.getInteger(at: buffer.readerIndex + 4, endianness: .little, as: UInt32.self)
        else { return .needMoreData }
        let total = try opener.frameLength(header: length, type: type)
        guard buffer.readableBytes >= total else { return .needMoreData }
        let plaintext = try buffer.withUnsafeReadableBytes { raw in
            try opener.open(UnsafeRawBufferPointer(rebasing: raw[ALTSRecordProtector.headerLength..<total]))
        }
        buffer.moveReaderIndex(forwardBy: total)
        context.fireChannelRead(Self.wrapInboundOut(context.channel.allocator.buffer(bytes: plaintext)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A partial frame at EOF is dropped: it was never authenticated.
        return .needMoreData
    }
}

/// Seals outbound plaintext `ByteBuffer`s into ALTS frames of at most the sealer's frame size.
public final class ALTSFrameEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    var sealer: ALTSSealer

    public init(sealer: ALTSSealer) {
        self.sealer = sealer
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = unwrapOutboundIn(data)
        guard plaintext.readableBytes > 0 else {
            context.write(data, promise: promise)
            return
        }
        do {
            let frames = try Self.seal(plaintext, with: &sealer, allocator: context.channel.allocator)
            context.write(wrapOutboundOut(frames), promise: promise)
        } catch {
            promise?.fail(error)
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }

    static func seal(_ plaintext: ByteBuffer, with sealer: inout ALTSSealer, allocator: ByteBufferAllocator) throws
        -> ByteBuffer
    {
        let perFrame = sealer.maxPlaintextPerFrame
        let frames = (plaintext.readableBytes + perFrame - 1) / perFrame
        var out = allocator.buffer(capacity: plaintext.readableBytes
                                   + frames * (ALTSRecordProtector.headerLength + ALTSRecordProtector.tagLength))
        try plaintext.withUnsafeReadableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(offset + perFrame, raw.count)
                let frame = try sealer.sealFrame(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                out.writeInteger(frame.length, endianness: .little)
                out.writeInteger(ALTSRecordProtector.frameType, endianness: .little)
                out.writeBytes(frame.ciphertext)
                out.writeBytes(frame.tag)
                offset = end
            }
        }
        return out
    }
}
