import NIOCore
import NIOHPACK
import NIOHTTP2

/// Puts one load-generator WebSocket on an HTTP/2 stream (RFC 8441, `--http2`): sends the
/// extended CONNECT, hands the answer to the `BenchConnectionHandler` behind it as a
/// `BenchConnectionHandler.HandshakeAnswer`, then turns DATA frames into the byte reads and writes
/// that handler deals in. It adds no work per frame beyond that wrapping.
final class BenchHTTP2StreamHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let request: HPACKHeaders
    private var sent = false
    private var answered = false

    init(request: HPACKHeaders) {
        self.request = request
    }

    /// The extended CONNECT for `path` (offering permessage-deflate with `offerDeflate`).
    static func request(path: String, authority: String, offerDeflate: Bool) -> HPACKHeaders {
        var headers = HPACKHeaders([
            (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"), (":path", path),
            (":authority", authority), ("sec-websocket-version", "13"),
        ])
        if offerDeflate {
            headers.add(name: "sec-websocket-extensions", value: "permessage-deflate; client_max_window_bits")
        }
        return headers
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.sendRequest(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.sendRequest(context: context)
        context.fireChannelActive()
    }

    private func sendRequest(context: ChannelHandlerContext) {
        guard !self.sent else { return }
        self.sent = true
        context.writeAndFlush(self.wrapOutboundOut(.headers(.init(headers: self.request))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .headers(let headers) where !self.answered:
            let status = headers.headers.first(name: ":status") ?? "none"
            if status.hasPrefix("1") { return }  // informational
            self.answered = true
            let answer: BenchConnectionHandler.HandshakeAnswer
            if status == "200", !headers.endStream {
                let extensions = headers.headers.first(name: "sec-websocket-extensions") ?? ""
                answer = .accepted(deflateNegotiated: extensions.lowercased().hasPrefix("permessage-deflate"))
            } else {
                answer = .refused("extended CONNECT answered :status \(status)")
            }
            context.fireUserInboundEventTriggered(answer)
        case .data(let frame):
            if case .byteBuffer(let bytes) = frame.data {
                context.fireChannelRead(self.wrapInboundOut(bytes))
            }
        default:
            // Trailers, and frames about the stream's state (a reset arrives as an error).
            break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = self.unwrapOutboundIn(data)
        context.write(self.wrapOutboundOut(.data(.init(data: .byteBuffer(bytes)))), promise: promise)
    }
}

@available(*, unavailable)
extension BenchHTTP2StreamHandler: Sendable {}
