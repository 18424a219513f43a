import NIOCore
import NIOWebSocket

/// Settings of one leg's WebSocket endpoint.
struct WebSocketEndpointConfiguration: Sendable {
    var maxFrameSize: Int
    var maxMessageSize: Int
    /// How often to ping a silent peer; a ping unanswered by the next tick fails the leg. Nil: never.
    var pingInterval: TimeAmount?
    /// How long to wait for the peer's close frame (and, as a client, for the server to close TCP).
    var closeTimeout: TimeAmount
    /// Reserved bits an extension negotiated on this leg (RSV1 for permessage-deflate).
    var negotiatedReservedBits: UInt8
    /// As a client, after the close handshake, whether to leave closing the transport to the server
    /// for up to `closeTimeout` (RFC 6455 section 7.1.1: TIME_WAIT stays off our side). True over TCP;
    /// false on an HTTP/2 stream, where there is no TIME_WAIT and a lingering stream would only hold
    /// a slot of its pooled connection.
    var leavesTransportCloseToServer: Bool = true

    init(
        maxFrameSize: Int,
        maxMessageSize: Int,
        pingInterval: TimeAmount?,
        closeTimeout: TimeAmount,
        negotiatedReservedBits: UInt8 = 0
    ) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.pingInterval = pingInterval
        self.closeTimeout = closeTimeout
        self.negotiatedReservedBits = negotiatedReservedBits
    }
}

/// An RFC 6455 endpoint on one leg: bytes in, `WebSocketFrameEvent`s out, and back.
///
/// It parses frames as they stream in, enforces the protocol (a violation fails the leg with the
/// right code and reports `.failed` upward), answers pings, keeps the peer alive with its own pings,
/// and runs this leg's close handshake. Data frames pass through without being buffered. A `.failed`
/// written to it (a violation found further up, in inflated data) fails the leg the same way.
final class WebSocketEndpointHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = WebSocketFrameEvent
    typealias OutboundIn = WebSocketFrameEvent
    typealias OutboundOut = ByteBuffer

    private let role: WebSocketRole
    private let configuration: WebSocketEndpointConfiguration
    private var parser: WebSocketFrameParser
    private var inbound: WebSocketInboundStateMachine
    private var framer: WebSocketOutboundFramer
    private var closeHandshake = WebSocketCloseHandshake()
    /// Bytes of an incomplete frame header (or control frame) carried over to the next read.
    private var carry: ByteBuffer?
    /// Whether the session has been told how this leg ended (exactly one `.close` or `.failed`).
    private var reportedEnd = false
    private var awaitingPong = false
    /// A pong written and not yet taken by the socket. While there is one, a new ping only replaces
    /// `nextPong`: at most one pong waits per leg, however fast the peer pings and however little it
    /// reads (RFC 6455 section 5.5.3 lets an endpoint answer only the most recent ping).
    private var pongInFlight = false
    private var nextPong: ByteBuffer?
    private var pingTask: RepeatedTask?
    private var closeTimer: Scheduled<Void>?
    /// A data frame's header waiting for the frame's first payload bytes: written with them (in one
    /// buffer when the slice is short or masked), so that a leg that ends before any byte of that
    /// frame went out (an upstream whose text turned out not to be UTF-8) still leaves this one at a
    /// frame boundary, where a close frame fits. Its write counts as done when it is held.
    private var heldHead: WebSocketDataFrameHead?

    init(role: WebSocketRole, configuration: WebSocketEndpointConfiguration) {
        self.role = role
        self.configuration = configuration
        self.parser = WebSocketFrameParser(maxFrameSize: configuration.maxFrameSize)
        self.inbound = WebSocketInboundStateMachine(
            role: role,
            maxMessageSize: configuration.maxMessageSize,
            negotiatedReservedBits: configuration.negotiatedReservedBits
        )
        self.framer = WebSocketOutboundFramer(role: role)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let interval = self.configuration.pingInterval else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = loopBound.value
            handler.keepaliveTick(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.pingTask?.cancel()
        self.closeTimer?.cancel()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        self.awaitingPong = false
        if var carry = self.carry {
            carry.writeBuffer(&buffer)
            buffer = carry
        }
        do {
            while self.closeHandshake.state != .closed, let event = try self.parser.next(&buffer) {
                try self.handle(self.inbound.receive(event), context: context)
            }
        } catch {
            self.fail(WebSocketFailure(error), context: context)
        }
        self.carry = buffer.readableBytes > 0 && self.closeHandshake.state != .closed ? buffer : nil
    }

    private func handle(
        _ action: WebSocketInboundStateMachine.Action,
        context: ChannelHandlerContext
    ) throws(WebSocketProtocolError) {
        switch action {
        case .forward(let event):
            if self.closeHandshake.state == .open {
                context.fireChannelRead(self.wrapInboundOut(event))
            }
        case .sendPong(let payload):
            if self.closeHandshake.state == .open {
                self.answerPing(payload, context: context)
            }
        case .pongReceived:
            break
        case .closeReceived(let status):
            self.reportEnd(.close(status), context: context)
            self.perform(self.closeHandshake.peerClosed(status), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.pingTask?.cancel()
        self.closeTimer?.cancel()
        self.reportEnd(.failed(.connectionLost("connection lost")), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.reportEnd(.failed(.connectionLost("connection error: \(error)")), context: context)
        context.close(promise: nil)
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .frameHead(let head):
            guard self.closeHandshake.state == .open else {
                promise?.fail(ChannelError.outputClosed)
                return
            }
            guard head.endsFrame else {
                self.heldHead = head
                promise?.succeed(())
                return
            }
            context.write(
                self.wrapOutboundOut(self.framer.encodeHead(head, allocator: context.channel.allocator)),
                promise: promise
            )
            self.writePendingControlFrames(context: context)
        case .payload(let payload, let endsFrame):
            guard self.closeHandshake.state == .open else {
                promise?.fail(ChannelError.outputClosed)
                return
            }
            if let head = self.heldHead {
                self.heldHead = nil
                let (start, rest) = self.framer.encodeHead(
                    head,
                    firstPayload: payload,
                    endsFrame: endsFrame,
                    allocator: context.channel.allocator
                )
                if let rest {
                    context.write(self.wrapOutboundOut(start), promise: nil)
                    context.write(self.wrapOutboundOut(rest), promise: promise)
                } else {
                    context.write(self.wrapOutboundOut(start), promise: promise)
                }
            } else {
                context.write(self.wrapOutboundOut(self.framer.encodePayload(payload, endsFrame: endsFrame)), promise: promise)
            }
            self.writePendingControlFrames(context: context)
        case .close(let status):
            promise?.succeed(())
            self.perform(self.closeHandshake.close(status), context: context)
        case .failed(let failure):
            promise?.succeed(())
            self.fail(failure, context: context)
        }
    }

    // MARK: Private

    private func writeControl(_ opcode: WebSocketOpcode, payload: ByteBuffer, context: ChannelHandlerContext) {
        if let frame = self.framer.encodeControl(opcode, payload: payload, allocator: context.channel.allocator) {
            context.write(self.wrapOutboundOut(frame), promise: nil)
        }
    }

    private func answerPing(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        guard !self.pongInFlight else {
            self.nextPong = payload
            return
        }
        guard let frame = self.framer.encodeControl(.pong, payload: payload, allocator: context.channel.allocator) else {
            return  // waits in the framer behind the data frame in progress, replacing an older pong
        }
        self.pongInFlight = true
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { _ in
            self.pongInFlight = false
            guard let next = self.nextPong else { return }
            self.nextPong = nil
            // A failed write (the connection is gone) answers nothing more.
            if self.closeHandshake.state == .open, context.channel.isActive {
                self.answerPing(next, context: context)
            }
        }
        context.writeAndFlush(self.wrapOutboundOut(frame), promise: written)
    }

    private func writePendingControlFrames(context: ChannelHandlerContext) {
        for frame in self.framer.takeControlFramesIfBetweenFrames() {
            context.write(self.wrapOutboundOut(frame), promise: nil)
        }
    }

    /// Fails the leg (RFC 6455 section 7.1.7), wherever the failure was found: reports it (unless the
    /// leg's end was reported already), sends a close frame with its code and drops the connection
    /// after it, whatever the role, without waiting for the peer's answer.
    private func fail(_ failure: WebSocketFailure, context: ChannelHandlerContext) {
        self.reportEnd(.failed(failure), context: context)
        self.perform(self.closeHandshake.fail(failure.status), context: context)
        context.close(promise: nil)
    }

    private func perform(_ action: WebSocketCloseHandshake.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .closeConnection:
            self.closeConnection(context: context)
        case .sendClose(let status, let thenClose):
            // No byte of a held frame went out: it is simply not sent.
            self.heldHead = nil
            let payload = WebSocketOutboundFramer.closePayload(status, allocator: context.channel.allocator)
            if self.framer.isInsideFrame {
                // The data frame in progress can never be finished now: its bytes would come from a
                // leg that is going away. Without a frame boundary no close frame fits; drop the link.
                self.framer.discardPendingControlFrames()
                context.close(promise: nil)
                return
            }
            self.writeControl(.connectionClose, payload: payload, context: context)
            context.flush()
            if thenClose {
                self.closeConnection(context: context)
            } else {
                self.scheduleClose(after: self.configuration.closeTimeout, context: context)
            }
        }
    }

    /// Ends the connection once the close handshake is done. A server closes TCP at once; a client
    /// gives the server time to close first (RFC 6455 section 7.1.1), so TIME_WAIT stays off our side.
    private func closeConnection(context: ChannelHandlerContext) {
        switch self.role {
        case .server:
            context.close(promise: nil)
        case .client where self.configuration.leavesTransportCloseToServer:
            self.scheduleClose(after: self.configuration.closeTimeout, context: context)
        case .client:
            context.close(promise: nil)
        }
    }

    private func scheduleClose(after delay: TimeAmount, context: ChannelHandlerContext) {
        self.closeTimer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.closeTimer = context.eventLoop.scheduleTask(in: delay) {
            loopBound.value.close(promise: nil)
        }
    }

    private func reportEnd(_ event: WebSocketFrameEvent, context: ChannelHandlerContext) {
        guard !self.reportedEnd else { return }
        self.reportedEnd = true
        context.fireChannelRead(self.wrapInboundOut(event))
        context.fireChannelReadComplete()
    }

    private func keepaliveTick(context: ChannelHandlerContext) {
        // While a data frame is going out, a ping would wait behind it (and its answer behind the
        // peer's reading of it); the stream itself shows whether the peer reads, via backpressure.
        guard self.closeHandshake.state == .open, !self.framer.isInsideFrame, self.heldHead == nil else {
            self.awaitingPong = false
            return
        }
        if self.awaitingPong {
            self.fail(.pingTimeout, context: context)
            return
        }
        self.awaitingPong = true
        self.writeControl(.ping, payload: context.channel.allocator.buffer(capacity: 0), context: context)
        context.flush()
    }
}

@available(*, unavailable)
extension WebSocketEndpointHandler: Sendable {}
