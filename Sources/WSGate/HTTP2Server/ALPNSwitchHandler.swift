import NIOCore
import NIOTLS

/// Sits right behind a TLS listener's TLS handler and, when ALPN chose `h2`, has the connection
/// switched to HTTP/2 (`switchToHTTP2`) before the event goes on. Here, in front of the HTTP/1
/// decoder, the switch runs while the decoder is not in one of its own callbacks, so taking it out
/// is immediate: the client's preface, which may come in the same read as its TLS Finished, can
/// only reach the HTTP/2 handler. (Switching from the handshake handler, behind the decoder, left
/// the decoder in place for that read at times, and it swallowed the preface.)
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
