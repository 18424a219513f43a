import NIOCore
import NIOTLS

/// Sits right behind a TLS listener's TLS handler and, when ALPN chose `h2`, has the connection
/// switched to HTTP/2 (`switchToHTTP2`) before the event goes on: the TLS handler delivers the
/// bytes that came with its Finished (the client's preface may) right after this event, so the
/// HTTP/2 handlers must be in place, right behind it, by then (``HTTP2ServerPipeline``).
final class ALPNSwitchHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let switchToHTTP2: (ChannelHandlerContext) -> Void

    init(switchToHTTP2: @escaping (ChannelHandlerContext) -> Void) {
        self.switchToHTTP2 = switchToHTTP2
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(negotiatedProtocol: "h2") = event {
            self.switchToHTTP2(context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

@available(*, unavailable)
extension ALPNSwitchHandler: Sendable {}
