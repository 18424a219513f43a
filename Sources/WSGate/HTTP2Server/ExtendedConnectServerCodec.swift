import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// The opening of a client's `CONNECT` stream (RFC 8441 section 4 for an extended CONNECT), or of one
/// the gateway refuses before routing (``HTTP2StreamKind/malformed(_:)``): its
/// HEADERS as an HTTP/1-shaped request head for the client handshake (`:authority` as `Host`,
/// `:path` as the target, `:protocol` left to the stream's ``HTTP2StreamKind``), and the handshake's
/// answer as HEADERS. NIO's `HTTP2FramePayloadToHTTP1ServerCodec` would drop `:protocol` and refuse
/// a plain CONNECT (no `:path`), which must be answered 501.
///
/// DATA that arrives before the answer (a client may send its first WebSocket frames at once) is
/// kept and handed on as bytes when the handler leaves the pipeline, the way the HTTP/1 decoder hands
/// on what it read past an upgrade; reads are held meanwhile, so it is at most one read. The tunnel
/// (``HTTP2StreamTunnelHandler``) takes its place then.
final class ExtendedConnectServerCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTP2Frame.FramePayload

    private var receivedHead = false
    private var kept: [ByteBuffer] = []
    private var ended = false

    /// The request head a CONNECT stream's HEADERS stand for; nil without one `:authority`.
    static func requestHead(_ headers: HPACKHeaders) -> HTTPRequestHead? {
        let authorities = headers[":authority"]
        guard authorities.count == 1, let authority = authorities.first, let method = headers.first(name: ":method") else {
            return nil
        }
        var fields = HTTPHeaders()
        if !headers.contains(name: "host") { fields.add(name: "Host", value: authority) }
        for (name, value, _) in headers where !name.hasPrefix(":") {
            fields.add(name: name, value: value)
        }
        return HTTPRequestHead(
            version: .init(major: 2, minor: 0),
            method: HTTPMethod(rawValue: method),
            uri: headers.first(name: ":path") ?? authority,
            headers: fields
        )
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .headers(let headers) where !self.receivedHead:
            self.receivedHead = true
            guard let head = Self.requestHead(headers.headers) else {
                context.fireErrorCaught(HTTPParserError.invalidHeaderToken)
                return
            }
            context.fireChannelRead(self.wrapInboundOut(.head(head)))
            if headers.endStream { self.end(context: context) }
        case .headers(let trailers):
            if trailers.endStream { self.end(context: context) }
        case .data(let data):
            if case .byteBuffer(let buffer) = data.data, buffer.readableBytes > 0 { self.kept.append(buffer) }
            if data.endStream { self.end(context: context) }
        default:
            break
        }
    }

    private func end(context: ChannelHandlerContext) {
        guard !self.ended else { return }
        self.ended = true
        context.fireChannelRead(self.wrapInboundOut(.end(nil)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(let head):
            // NIOHPACK drops the HTTP/1 connection fields (Connection, Transfer-Encoding, ...) and lowercases.
            var fields = HPACKHeaders([(":status", String(head.status.code))])
            for (name, value, indexing) in HPACKHeaders(httpHeaders: head.headers, normalizeHTTPHeaders: true) {
                fields.add(name: name, value: value, indexing: indexing)
            }
            context.write(self.wrapOutboundOut(.headers(.init(headers: fields))), promise: promise)
        case .body(.byteBuffer(let buffer)):
            context.write(self.wrapOutboundOut(.data(.init(data: .byteBuffer(buffer)))), promise: promise)
        case .body(let other):
            context.write(self.wrapOutboundOut(.data(.init(data: other))), promise: promise)
        case .end:
            let empty = context.channel.allocator.buffer(capacity: 0)
            context.write(self.wrapOutboundOut(.data(.init(data: .byteBuffer(empty), endStream: true))), promise: promise)
        }
    }

    /// Hands the bytes kept so far on as the tunnel's first bytes, then leaves.
    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        let kept = self.kept
        self.kept = []
        for buffer in kept {
            context.fireChannelRead(NIOAny(buffer))
        }
        context.leavePipeline(removalToken: removalToken)
    }
}

@available(*, unavailable)
extension ExtendedConnectServerCodec: Sendable {}
