import NIOCore
import NIOHTTP1

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
            // In front of the HTTP codec: the answer goes out as bytes.
            let answer = HTTPAnswer.text(.requestHeaderFieldsTooLarge, "request header fields too large")
            context.writeAndFlush(NIOAny(answer.encoded(allocator: context.channel.allocator))).assumeIsolated().whenComplete {
                _ in
                context.close(promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension RequestHeadLimitHandler: Sendable {}
