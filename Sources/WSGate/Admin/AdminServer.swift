import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The admin listener: HTTP/1.1, over TLS with `admin.tls`, answered by ``AdminService``.
///
/// Each connection is checked against the configuration served when it is accepted: beyond
/// `admin.max_connections` open at once it is closed at accept, and it is closed after
/// `admin.idle_timeout` without a request. Whether it speaks TLS is fixed at start (like the
/// address); the certificates are those of the served configuration, so a reload renews them.
enum AdminServer {
    static func bind(_ address: SocketAddressSpec, group: any EventLoopGroup, service: AdminService) async throws -> any Channel {
        let gateway = service.gateway
        let isTLS = gateway.activeConfiguration.adminTLS != nil
        let open = NIOLockedValueBox(0)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let current = gateway.activeConfiguration
                    let admitted = open.withLockedValue { count in
                        guard count < current.configuration.admin.maxConnections else { return false }
                        count += 1
                        return true
                    }
                    guard admitted else { throw ChannelError.ioOnClosedChannel }
                    channel.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } }
                    let sync = channel.pipeline.syncOperations
                    if isTLS {
                        // Never answer in plain text on a TLS admin listener, whatever a reload did.
                        guard let tls = current.adminTLS else { throw ChannelError.ioOnClosedChannel }
                        try sync.addHandler(NIOSSLServerHandler(context: tls.sslContext))
                    }
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(IdleStateHandler(readTimeout: TimeAmount(current.configuration.admin.idleTimeout)))
                    try sync.addHandler(AdminRequestHandler(service: service))
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

    /// `admin.idle_timeout` passed without a read: closed unless an answer is still being prepared.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if self.waiting.isEmpty { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func read(context: ChannelHandlerContext) {
        if !self.waiting.isEmpty {
            self.readPending = true
        } else {
            context.read()
        }
    }

    private func respond(_ answer: HTTPAnswer, keepAlive: Bool, context: ChannelHandlerContext) {
        self.waiting.removeFirst()
        guard context.channel.isActive else { return }
        var answer = answer
        answer.headers.append(("Cache-Control", "no-store"))
        answer.write(to: context, closing: !keepAlive)
        if !keepAlive {
            self.waiting.removeAll()
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
