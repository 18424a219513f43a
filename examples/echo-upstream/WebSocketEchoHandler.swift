import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Handles one upgraded connection. Frames arrive one by one from NIO's WebSocketFrameDecoder
/// (no aggregation), so the default behaviour echoes each data frame exactly as framed.
///
/// Reads are paused while the channel is not writable, so a client that sends faster than it
/// reads cannot make the echo buffer grow without bound.
final class WebSocketEchoHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum State {
        /// Echoing.
        case open
        /// We sent a close frame and wait for the peer's (or the timeout).
        case closeSent(timeout: Scheduled<Void>)
        /// Nothing more to do: the connection is closing.
        case closing
    }

    /// How long `/close/CODE` waits for the peer's close frame before closing anyway.
    static let closeReplyTimeout = TimeAmount.seconds(2)
    /// Size of each message sent by `/send/N`.
    static let sendMessageSize = 1024

    private let request: HTTPRequestHead
    private let behaviour: Behaviour
    private var state = State.open
    private var sawDataFrame = false
    private var readPending = false

    init(request: HTTPRequestHead, behaviour: Behaviour) {
        self.request = request
        self.behaviour = behaviour
    }

    // MARK: Right after the upgrade

    func handlerAdded(context: ChannelHandlerContext) {
        switch self.behaviour {
        case .headers:
            let json = ByteBuffer(string: requestDescriptionJSON(self.request))
            context.writeAndFlush(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: json)), promise: nil)
        case .send(let count):
            var payload = context.channel.allocator.buffer(capacity: Self.sendMessageSize)
            for i in 0..<Self.sendMessageSize {
                payload.writeInteger(UInt8(truncatingIfNeeded: i))
            }
            for _ in 0..<count {
                context.write(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .binary, data: payload)), promise: nil)
            }
            context.flush()
        case .lastClose:
            let text = ByteBuffer(string: CloseRecord.lastDescription(tag: CloseRecord.tag(inURI: self.request.uri) ?? ""))
            context.writeAndFlush(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: text)), promise: nil)
        case .echo, .close, .drop, .reject, .recordClose:
            break
        }
    }

    // MARK: Inbound frames

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            self.dataFrameReceived(frame, context: context)
        case .ping:
            guard case .open = self.state else { return }
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.write(self.wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            self.closeFrameReceived(frame, context: context)
        default:
            // A reserved opcode: protocol error (1002).
            self.sendCloseThenClose(code: .protocolError, reason: "", context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    private func dataFrameReceived(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        guard case .open = self.state else { return }  // after our close frame, data is ignored
        let isFirst = !self.sawDataFrame
        self.sawDataFrame = true

        switch self.behaviour {
        case .close(let code) where isFirst:
            var payload = context.channel.allocator.buffer(capacity: 5)
            payload.writeInteger(code)
            payload.writeString("bye")
            context.writeAndFlush(
                self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)),
                promise: nil
            )
            let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: Self.closeReplyTimeout) {
                self.state = .closing
                context.close(promise: nil)
            }
            self.state = .closeSent(timeout: timeout)
        case .drop where isFirst:
            self.state = .closing
            context.close(promise: nil)
        default:
            let echo = WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: frame.unmaskedData)
            context.write(self.wrapOutboundOut(echo), promise: nil)
        }
    }

    private func closeFrameReceived(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        if self.behaviour != .lastClose,
            let tag = CloseRecord.tag(inURI: self.request.uri) ?? (self.behaviour == .recordClose ? "" : nil)
        {
            CloseRecord.record(closePayload: frame.unmaskedData, tag: tag)
        }
        switch self.state {
        case .open:
            // The peer starts the closing handshake: answer with the same code and reason, then close.
            self.state = .closing
            let reply = WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData)
            context.writeAndFlush(self.wrapOutboundOut(reply)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .closeSent(let timeout):
            // The peer answered our close frame: the closing handshake is done.
            timeout.cancel()
            self.state = .closing
            context.close(promise: nil)
        case .closing:
            break
        }
    }

    private func sendCloseThenClose(code: WebSocketErrorCode, reason: String, context: ChannelHandlerContext) {
        guard case .open = self.state else { return }
        self.state = .closing
        var payload = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        payload.write(webSocketErrorCode: code)
        payload.writeString(reason)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)
        context.writeAndFlush(self.wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    // MARK: Backpressure and teardown

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            self.readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && self.readPending {
            self.readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .closeSent(let timeout) = self.state {
            timeout.cancel()
        }
        self.state = .closing
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Protocol errors were already answered (close 1002) by NIO's WebSocketProtocolErrorHandler.
        self.state = .closing
        context.close(promise: nil)
    }
}
