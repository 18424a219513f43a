import NIOCore

/// Sits in front of the HTTP decoder until the handshake request's head is complete and answers 431
/// when it grows past `max_header_bytes`, so a slow or endless head cannot pin memory. It removes
/// itself once the head is through.
final class RequestHeadLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var limiter: RequestHeadSizeLimiter
    private var refused = false

    init(maxHeaderBytes: Int) {
        self.limiter = RequestHeadSizeLimiter(limit: maxHeaderBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.refused else { return }
        let buffer = self.unwrapInboundIn(data)
        switch self.limiter.feed(buffer.readableBytesView) {
        case .needMore:
            context.fireChannelRead(data)
        case .complete:
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case .tooLarge:
            self.refused = true
            let body = "request header fields too large\n"
            let response = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: response))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension RequestHeadLimitHandler: Sendable {}
