import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import NIOWebSocket

/// `--h2`: one RFC 8441 extended CONNECT stream of an h2c (prior knowledge) connection. It answers
/// the request (or refuses it for `/reject/STATUS`), then turns DATA frames into bytes for NIO's
/// WebSocket codec and back, so the same `WebSocketEchoHandler` serves HTTP/1.1 and HTTP/2.
final class HTTP2WebSocketStreamHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTP2Frame.FramePayload

    private var answered = false
    private var ended = false

    /// The server settings of an `--h2` connection: extended CONNECT on.
    static let settings: [HTTP2Setting] = [
        HTTP2Setting(parameter: .maxConcurrentStreams, value: 1000),
        HTTP2Setting(parameter: .maxHeaderListSize, value: 16 * 1024),
        HTTP2Setting(parameter: .enableConnectProtocol, value: 1),
    ]

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .headers(let headers) where !self.answered:
            self.answered = true
            self.answer(headers.headers, context: context)
        case .data(let data):
            if case .byteBuffer(let bytes) = data.data, bytes.readableBytes > 0 {
                context.fireChannelRead(self.wrapInboundOut(bytes))
            }
            if data.endStream { self.endStream(context: context) }
        default:
            break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(self.wrapOutboundOut(.data(.init(data: .byteBuffer(self.unwrapOutboundIn(data))))), promise: promise)
    }

    private func answer(_ request: HPACKHeaders, context: ChannelHandlerContext) {
        let path = request.first(name: ":path") ?? "/"
        guard request.first(name: ":method") == "CONNECT", request.first(name: ":protocol") == "websocket" else {
            self.respond(status: 400, context: context)
            return
        }
        let behaviour = Behaviour(uri: path)
        if case .reject(let status) = behaviour {
            self.respond(status: status, context: context)
            return
        }
        var fields = HTTPHeaders()
        for (name, value, _) in request where !name.hasPrefix(":") {
            fields.add(name: name, value: value)
        }
        var response = HPACKHeaders([(":status", "200")])
        if let subprotocol = lastOfferedSubprotocol(fields) {
            response.add(name: "sec-websocket-protocol", value: subprotocol)
        }
        context.writeAndFlush(self.wrapOutboundOut(.headers(.init(headers: response))), promise: nil)
        let head = HTTPRequestHead(version: .init(major: 2, minor: 0), method: .GET, uri: path, headers: fields)
        do {
            let sync = context.pipeline.syncOperations
            try sync.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)))
            try sync.addHandler(WebSocketFrameEncoder())
            try sync.addHandler(WebSocketEchoHandler(request: head, behaviour: behaviour))
        } catch {
            context.close(promise: nil)
        }
    }

    private func respond(status: Int, context: ChannelHandlerContext) {
        let headers = HPACKHeaders([(":status", String(status))])
        context.writeAndFlush(self.wrapOutboundOut(.headers(.init(headers: headers, endStream: true))), promise: nil)
        self.ended = true
    }

    /// The client ended its side: end ours (the stream closes).
    private func endStream(context: ChannelHandlerContext) {
        guard !self.ended else { return }
        self.ended = true
        context.writeAndFlush(self.wrapOutboundOut(.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))), promise: nil)
    }
}

@available(*, unavailable)
extension HTTP2WebSocketStreamHandler: Sendable {}
