import NIOCore
import NIOHTTP2

/// The first handler of a client's HTTP/2 stream: reads what the stream's first HEADERS ask for
/// (``HTTP2StreamKind``), has the stream's handlers added for it, hands them those HEADERS and
/// leaves. Before its HEADERS a stream carries nothing NIOHTTP2 would let through (a DATA frame
/// first is a protocol error it answers itself).
final class HTTP2StreamRouter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload

    /// Adds the handlers serving a stream of this kind behind the router.
    typealias Configure = (any Channel, HTTP2StreamKind) throws -> Void

    private let configure: Configure

    init(configure: @escaping Configure) {
        self.configure = configure
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .headers(let headers) = self.unwrapInboundIn(data) else {
            context.close(promise: nil)
            return
        }
        do {
            try self.configure(context.channel, HTTP2StreamKind(requestHeaders: headers.headers))
        } catch {
            context.close(promise: nil)
            return
        }
        let pipeline = context.pipeline.syncOperations
        context.fireChannelRead(data)
        pipeline.removeHandler(context: context, promise: nil)
    }
}

@available(*, unavailable)
extension HTTP2StreamRouter: Sendable {}
