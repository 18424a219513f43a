import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin listener: plain HTTP/1.1 answered by ``AdminService``.
enum AdminServer {
    static func bind(_ address: SocketAddressSpec, group: any EventLoopGroup, service: AdminService) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminRequestHandler(service: service))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
    }
}

/// Hands each admin request to the ``AdminService`` and writes its answer, one request at a time:
/// requests that arrive while an answer is being prepared wait in order (and reads are held), so
/// pipelined requests are answered in the order they came.
///
/// The answer is prepared in a task, off the EventLoop: gathering the figures runs a short task on
/// every EventLoop, and rendering (JSON, Prometheus text) must not hold this connection's loop.
final class AdminRequestHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = Never
    typealias OutboundOut = HTTPServerResponsePart

    private let service: AdminService
    private var request: HTTPRequestHead?
    /// Complete requests not answered yet; the first is being answered.
    private var waiting: [HTTPRequestHead] = []
    private var readPending = false

    init(service: AdminService) {
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.request = head
        case .body:
            break
        case .end:
            guard let head = self.request else { return }
            self.request = nil
            self.waiting.append(head)
            if self.waiting.count == 1 {
                self.answerFirst(context: context)
            }
        }
    }

    private func answerFirst(context: ChannelHandlerContext) {
        guard let head = self.waiting.first else { return }
        let service = self.service
        let request = AdminRequest(head)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        Task {
            let response = await service.respond(to: request)
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.respond(response, keepAlive: head.isKeepAlive, context: context)
            }
        }
    }

    func read(context: ChannelHandlerContext) {
        if !self.waiting.isEmpty {
            self.readPending = true
        } else {
            context.read()
        }
    }

    private func respond(_ response: AdminResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        self.waiting.removeFirst()
        guard context.channel.isActive else { return }
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        var headers = HTTPHeaders([("Content-Type", response.contentType), ("Content-Length", String(buffer.readableBytes))])
        headers.add(contentsOf: response.headers)
        headers.add(name: "Cache-Control", value: "no-store")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            self.waiting.removeAll()
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else if !self.waiting.isEmpty {
            self.answerFirst(context: context)
        } else if self.readPending {
            self.readPending = false
            context.read()
        }
    }
}

@available(*, unavailable)
extension AdminRequestHandler: Sendable {}
