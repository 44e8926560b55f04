import Logging
import NIOCore
import SecureChannel

/// Fired inbound (as a user event) once the handshake has completed and the record layer is in place.
public struct EKEPHandshakeCompleted: Sendable {
    /// The peer's verified identities (evidence plus node identity key), in processing order.
    public let peerIdentities: [PeerIdentity]
    /// The peer's additional authenticated data.
    public let peerAdditionalAuthenticatedData: [UInt8]
}

/// Runs the EKEP handshake at the bottom of a pipeline, then replaces itself with the ALTS record layer
/// (`ALTSFrameDecoder` + `ALTSFrameEncoder`), so any protocol above it (our p2p framing, HTTP/2) sees plaintext.
///
/// * No inbound byte reaches the handlers above before the handshake completes; bytes that follow the last
///   handshake frame are handed to the record decoder.
/// * Outbound writes made during the handshake are held and sealed, in order, as soon as it completes; they fail
///   if it fails.
/// * A handshake that has not completed within `handshakeTimeout` fails, and the channel closes.
/// * On failure the Abort frame (if EKEP calls for one) is flushed, the error is fired as `HandshakeFailure`, and
///   the channel closes.
public final class EKEPHandshakeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// The default handshake deadline.
    public static let defaultHandshakeTimeout: TimeAmount = .seconds(10)

    private var handshaker: EKEPHandshaker
    private let handshakeTimeout: TimeAmount
    private let maxSendFrameSize: Int
    private let logger: Logger
    private var timeout: Scheduled<Void>?
    private var pendingWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var started = false
    private var finished = false
    private var readPending = false
    /// Set when the handshake failed: nothing passes this handler any more.
    private var failure: HandshakeFailure?

    public init(role: EKEPHandshaker.Role, configuration: HandshakeConfiguration,
                handshakeTimeout: TimeAmount = EKEPHandshakeHandler.defaultHandshakeTimeout,
                maxSendFrameSize: Int = ALTSRecordProtector.defaultMaxSendFrameSize,
                rng: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
                logger: Logger = Logger(label: "darknode.ekep"))
    {
        self.handshaker = EKEPHandshaker(role: role, configuration: configuration, rng: rng)
        self.handshakeTimeout = handshakeTimeout
        self.maxSendFrameSize = maxSendFrameSize
        self.logger = logger
    }

    // MARK: lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { begin(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        begin(context: context)
        context.fireChannelActive()
    }

    private func begin(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) { [weak self] in
            guard let self, !self.finished else { return }
            self.fail(context: context, failure: self.handshaker.connectionClosed(reason: "handshake timeout"),
                      abortFrame: [])
        }
        if handshaker.role == .client {
            apply(handshaker.start(), context: context)
        }
        // Keep reading even if the application turned off auto-read: the handshake needs the peer's bytes.
        context.read()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            let failure = handshaker.connectionClosed(reason: "EOF")
            fail(context: context, failure: failure, abortFrame: [])
        }
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
        timeout = nil
    }

    // MARK: inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else {
            // After completion, only reachable while the handler is being removed (the record decoder sits right
            // after us); after a failure, input is dropped.
            if failure == nil { context.fireChannelRead(data) }
            return
        }
        let buffer = unwrapInboundIn(data)
        let step = buffer.withUnsafeReadableBytes { handshaker.receive($0) }
        apply(step, context: context)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if finished {
            context.fireChannelReadComplete()
        } else if !context.channel.isActive {
            return
        } else {
            // Back-pressure: handshake bytes are always read; the application's read demand applies afterwards.
            context.read()
        }
    }

    public func read(context: ChannelHandlerContext) {
        if finished { context.read() } else { readPending = true }
    }

    // MARK: outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if let failure {
            // Never let plaintext through after a failed handshake.
            promise?.fail(failure)
            return
        }
        guard !finished else {
            // Already sealed by the record encoder above us (we are being removed).
            context.write(data, promise: promise)
            return
        }
        // Writes above us are plaintext: hold them until the record layer exists.
        pendingWrites.append((unwrapOutboundIn(data), promise))
    }

    public func flush(context: ChannelHandlerContext) {
        // Held writes are flushed when the handshake completes.
        if finished && failure == nil { context.flush() }
    }

    // MARK: steps

    private func apply(_ step: HandshakeStep, context: ChannelHandlerContext) {
        switch step.outcome {
        case .inProgress:
            if !step.bytesToSend.isEmpty {
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: step.bytesToSend)),
                                      promise: nil)
            }
        case .completed(let result):
            if !step.bytesToSend.isEmpty {
                context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: step.bytesToSend)), promise: nil)
            }
            complete(context: context, result: result)
        case .failed(let failure):
            fail(context: context, failure: failure, abortFrame: step.bytesToSend)
        }
    }

    private func complete(context: ChannelHandlerContext, result: HandshakeResult) {
        finished = true
        timeout?.cancel()
        timeout = nil
        let isClient = result.role == .client
        var sealer = ALTSSealer(key: result.recordKey, isClient: isClient, maxFrameSize: maxSendFrameSize)
        let opener = ALTSOpener(key: result.recordKey, isClient: isClient)
        // Seal the held writes with the sealer's first counters, before the encoder takes it over.
        let held = pendingWrites
        pendingWrites = []
        for (plaintext, promise) in held {
            do {
                let frames = try ALTSFrameEncoder.seal(plaintext, with: &sealer, allocator: context.channel.allocator)
                context.write(wrapOutboundOut(frames), promise: promise)
            } catch {
                promise?.fail(error)
            }
        }
        context.flush()
        do {
            try context.pipeline.syncOperations.addHandlers(
                [ByteToMessageHandler(ALTSFrameDecoder(opener: opener),
                                      maximumBufferSize: ALTSFrameDecoder.maximumBufferSize),
                 ALTSFrameEncoder(sealer: sealer), NIOCloseOnErrorHandler()],
                position: .after(self))
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        logger.debug("EKEP handshake completed", metadata: ["role": "\(result.role)"])
        context.fireUserInboundEventTriggered(
            EKEPHandshakeCompleted(peerIdentities: result.peerIdentities,
                                   peerAdditionalAuthenticatedData: result.peerAdditionalAuthenticatedData))
        if !result.unusedBytes.isEmpty {
            context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: result.unusedBytes)))
            context.fireChannelReadComplete()
        }
        if readPending {
            readPending = false
            context.read()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func fail(context: ChannelHandlerContext, failure: HandshakeFailure, abortFrame: [UInt8]) {
        guard !finished else { return }
        finished = true
        self.failure = failure
        timeout?.cancel()
        timeout = nil
        logger.debug("EKEP handshake failed", metadata: ["failure": "\(failure)"])
        let held = pendingWrites
        pendingWrites = []
        for (_, promise) in held { promise?.fail(failure) }
        if !abortFrame.isEmpty, context.channel.isActive {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: abortFrame)), promise: nil)
        }
        context.fireErrorCaught(failure)
        context.close(promise: nil)
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Adds the EKEP handshake handler at the front of the pipeline (below every protocol handler).
    public func addEKEPHandshakeHandler(role: EKEPHandshaker.Role, configuration: HandshakeConfiguration,
                                        handshakeTimeout: TimeAmount = EKEPHandshakeHandler.defaultHandshakeTimeout)
        throws
    {
        try addHandler(EKEPHandshakeHandler(role: role, configuration: configuration,
                                            handshakeTimeout: handshakeTimeout),
                       position: .first)
    }
}
