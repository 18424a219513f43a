import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin listener: `/healthz` and `POST /reload` for now; stats and metrics come with the operations work.
enum AdminServer {
    /// - Parameter reload: what `POST /reload` runs (``AdminReloadHandler``).
    static func bind(
        _ address: SocketAddressSpec,
        group: any EventLoopGroup,
        reload: @escaping @Sendable () async -> AdminReloadHandler.Outcome
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminReloadHandler(reload: reload))
                    try channel.pipeline.syncOperations.addHandler(AdminRequestHandler())
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
    }
}

/// Answers admin HTTP requests.
final class AdminRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var request: HTTPRequestHead?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.request = head
        case .body:
            break
        case .end:
            guard let head = self.request else { return }
            self.request = nil
            let (status, body) = Self.answer(head)
            self.respond(status, body: body, keepAlive: head.isKeepAlive, context: context)
        }
    }

    private static func answer(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        switch (head.method, path) {
        case (.GET, "/healthz"):
            return (.ok, "ok\n")
        case (_, "/healthz"):
            return (.methodNotAllowed, "method not allowed\n")
        default:
            return (.notFound, "not found\n")
        }
    }

    private func respond(_ status: HTTPResponseStatus, body: String, keepAlive: Bool, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = HTTPHeaders([("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", String(buffer.readableBytes))])
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension AdminRequestHandler: Sendable {}
