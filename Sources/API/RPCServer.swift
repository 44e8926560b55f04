import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP side of the RPC: `POST /` with a JSON-RPC body, answered by an `RPCHandler`, on SwiftNIO's HTTP/1.1
/// server pipeline (keep-alive and pipelining handled by NIO). HTTP status is 200 for every JSON-RPC answer (errors
/// included, as JSON-RPC over HTTP has it), 204 when every request was a notification, 413 with a JSON-RPC error
/// body when the body exceeds the limit (its bytes are counted and dropped, never kept or parsed), 404/405 for
/// other paths and methods.
///
/// Not Hummingbird: Hummingbird (and AsyncHTTPClient, which its testing module needs) compile Apple Network.framework
/// code under `#if canImport(Network)`, which is true on Linux inside this package because of our own `Network`
/// module, so they do not build here.
public final class RPCServer: Sendable {
    public let channel: any Channel
    /// The bound port (useful with port 0).
    public let port: Int

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    /// Binds `host:port` (port 0 picks a free one) and serves `handler` until `stop()`.
    public static func start(handler: RPCHandler, host: String, port: Int,
                             group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> RPCServer {
        let limit = handler.limits.bodyBytesMax
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RPCHTTPHandler(rpc: handler, bodyBytesMax: limit))
                }
            }
            .bind(host: host, port: port).get()
        return RPCServer(channel: channel, port: channel.localAddress?.port ?? port)
    }

    /// Stops accepting connections and closes the listening socket.
    public func stop() async {
        try? await channel.close()
    }
}

/// One connection's requests. The body is accumulated up to the limit; past it, further bytes are only counted.
final class RPCHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let rpc: RPCHandler
    let bodyBytesMax: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var oversize = false

    init(rpc: RPCHandler, bodyBytesMax: Int) {
        self.rpc = rpc
        self.bodyBytesMax = bodyBytesMax
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            oversize = false
        case .body(var chunk):
            guard !oversize else { return }
            if body.count + chunk.readableBytes > bodyBytesMax {
                oversize = true
                body = []
            } else {
                body += chunk.readBytes(length: chunk.readableBytes) ?? []
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            guard head.uri == "/" || head.uri.hasPrefix("/?") else {
                return respond(context: context, status: .notFound, body: nil, keepAlive: keepAlive)
            }
            guard head.method == .POST else {
                return respond(context: context, status: .methodNotAllowed, body: nil, keepAlive: keepAlive)
            }
            if oversize {
                // The client may still be reading; close after answering so the connection holds no state.
                return respond(context: context, status: .payloadTooLarge, body: RPCHandler.oversizeBody(limit: bodyBytesMax), keepAlive: false)
            }
            let request = body
            body = []
            let rpc = self.rpc
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            Task {
                let answer = await rpc.handle(request)
                loop.execute {
                    let (handler, context) = bound.value
                    if let answer {
                        handler.respond(context: context, status: .ok, body: answer, keepAlive: keepAlive)
                    } else {
                        handler.respond(context: context, status: .noContent, body: nil, keepAlive: keepAlive)
                    }
                }
            }
        }
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, body: [UInt8]?, keepAlive: Bool) {
        var headers = HTTPHeaders()
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.count))
        } else if status != .noContent {
            headers.add(name: "Content-Length", value: "0")
        }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil) }
        let done = context.writeAndFlushPromise()
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if !keepAlive {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

extension ChannelHandlerContext {
    fileprivate func writeAndFlushPromise() -> EventLoopPromise<Void> { eventLoop.makePromise() }
}
