import NIOCore
import NIOHTTP2

/// The WebSocket bytes of a session leg that is an HTTP/2 stream after its extended CONNECT (RFC
/// 8441 section 5), in either role: toward a `websocket-h2` upstream (behind the
/// `ExtendedConnectStreamHandler` that opened the stream) and toward a client (behind the
/// `ExtendedConnectServerCodec` that answered it). It lets the same `WebSocketEndpointHandler` sit
/// on a stream as on a TCP connection.
///
/// - Inbound DATA becomes `ByteBuffer`s, outbound `ByteBuffer`s become DATA frames (small writes of
///   one flush gathered into one frame). Bytes may be held until ``startForwarding()`` (the session
///   attaches after the opening).
/// - END_STREAM from the peer is the end of its byte stream (a TCP close): the handler resets the
///   stream with NO_ERROR, which closes it and makes the leg inactive.
/// - RST_STREAM reaches the endpoint as an error and closes the leg (this session only).
///
/// Reads stay demand-driven: the stream channel delivers DATA, and sends WINDOW_UPDATE, only when
/// the session lets this leg `read()`; a stalled stream pins its window, never its neighbours.
final class HTTP2StreamTunnelHandler: ChannelDuplexHandler, SessionLegQueue {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTP2Frame.FramePayload

    private var held: [ByteBuffer]?
    private var context: ChannelHandlerContext?
    private var receivedEndStream = false
    /// Small writes waiting for the next flush, sent as one DATA frame.
    private var gathered: ByteBuffer?
    /// Whether `gathered` is a buffer of this handler's (else it is the first write itself, held
    /// as it is: a flush of a single write sends it without a copy).
    private var gatheredIsOwn = false
    private var gatheredPromise: EventLoopPromise<Void>?
    private var endedOurSide = false
    /// Whether closing the leg sends END_STREAM first (toward a client).
    private let endsStreamOnClose: Bool

    /// - Parameters:
    ///   - forwarding: whether bytes go on at once; false holds them until ``startForwarding()``.
    ///   - endsStreamOnClose: whether closing the leg sends END_STREAM before the stream channel
    ///     resets the stream (toward a client; toward an upstream the reset alone, see
    ///     ``answerEndStream(context:)`` for why).
    init(forwarding: Bool, endsStreamOnClose: Bool = false) {
        self.held = forwarding ? nil : []
        self.endsStreamOnClose = endsStreamOnClose
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Hands the bytes held so far on, and from now on forwards every byte. Called once the
    /// session's handlers are in place.
    func startForwarding() {
        guard let held = self.held, let context = self.context else { return }
        self.held = nil
        for buffer in held {
            context.fireChannelRead(self.wrapInboundOut(buffer))
        }
        if !held.isEmpty {
            context.fireChannelReadComplete()
        }
        if self.receivedEndStream {
            self.answerEndStream(context: context)
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .headers(let headers):
            // Trailers end the stream like an empty DATA frame with END_STREAM.
            if headers.endStream { self.received(nil, endStream: true, context: context) }
        case .data(let data):
            guard case .byteBuffer(let buffer) = data.data else { break }
            self.received(buffer, endStream: data.endStream, context: context)
        default:
            // RST_STREAM arrives as an error; the other frames concern the connection.
            break
        }
    }

    private func received(_ buffer: ByteBuffer?, endStream: Bool, context: ChannelHandlerContext) {
        if let buffer, buffer.readableBytes > 0 {
            if self.held != nil {
                self.held!.append(buffer)
            } else {
                context.fireChannelRead(self.wrapInboundOut(buffer))
            }
        }
        if endStream {
            self.receivedEndStream = true
            if self.held == nil { self.answerEndStream(context: context) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.held == nil { context.fireChannelReadComplete() }
    }

    // MARK: Outbound

    /// Small writes (a frame header, a short message, a control frame) are gathered into one DATA
    /// frame per flush: the endpoint writes a frame's header and its payload separately, and each
    /// DATA frame costs 9 bytes and a pass through the HTTP/2 state machine. Larger writes go out as
    /// they are, after what was gathered, so no payload is copied.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !self.endedOurSide else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        var buffer = self.unwrapOutboundIn(data)
        guard buffer.readableBytes <= Self.maxGathered else {
            self.writeGathered(context: context)
            self.writeData(buffer, promise: promise, context: context)
            return
        }
        if let gathered = self.gathered, gathered.readableBytes + buffer.readableBytes > Self.maxGathered {
            self.writeGathered(context: context)
        }
        if self.gathered == nil {
            self.gathered = buffer
            self.gatheredIsOwn = false
        } else {
            if !self.gatheredIsOwn {
                var own = context.channel.allocator.buffer(capacity: Self.maxGathered)
                own.writeBuffer(&self.gathered!)
                self.gathered = own
                self.gatheredIsOwn = true
            }
            self.gathered!.writeBuffer(&buffer)
        }
        if let promise {
            if let pending = self.gatheredPromise {
                pending.futureResult.cascade(to: promise)
            } else {
                self.gatheredPromise = promise
            }
        }
    }

    func flush(context: ChannelHandlerContext) {
        self.writeGathered(context: context)
        context.flush()
    }

    /// The leg closes (the endpoint after its close handshake, or the session): what was gathered
    /// goes out first (the close frame among it), then, toward a client, END_STREAM, the "TCP
    /// close" of RFC 8441 section 5, and the stream channel closes once that went out (a reset
    /// sent at once would discard the DATA NIOHTTP2 still buffers until the read loop's flush),
    /// or after ``closeGrace`` when the peer's window keeps it in (then with a reset).
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if self.gathered != nil {
            self.writeGathered(context: context)
            context.flush()
        }
        guard self.endsStreamOnClose, mode == .all, !self.endedOurSide, context.channel.isActive else {
            context.close(mode: mode, promise: promise)
            return
        }
        self.endedOurSide = true
        let end = HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(context.channel.allocator.buffer(capacity: 0)), endStream: true))
        let ended = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(self.wrapOutboundOut(end), promise: ended)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let grace = context.eventLoop.scheduleTask(in: Self.closeGrace) { ended.succeed() }
        ended.futureResult.whenComplete { _ in
            grace.cancel()
            loopBound.value.close(mode: mode, promise: promise)
        }
    }

    /// How long a closing leg waits for its END_STREAM to go out.
    static let closeGrace = TimeAmount.seconds(1)

    /// The most bytes gathered into one DATA frame.
    private static let maxGathered = 1024

    private func writeGathered(context: ChannelHandlerContext) {
        guard let gathered = self.gathered else { return }
        self.gathered = nil
        let promise = self.gatheredPromise
        self.gatheredPromise = nil
        self.writeData(gathered, promise: promise, context: context)
    }

    /// Bytes written to the stream and not yet handed to the connection (waiting for flow-control
    /// window or for the connection's own writability): what the session holds to `max_buffered`.
    private(set) var queuedBytes = 0

    private func writeData(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        let size = buffer.readableBytes
        self.queuedBytes += size
        // The caller's promise when there is one: the count is kept on it, without a second promise chained.
        let written = promise ?? context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { _ in
            self.queuedBytes -= size
        }
        context.write(self.wrapOutboundOut(.data(.init(data: .byteBuffer(buffer)))), promise: written)
    }

    // MARK: Private

    /// The peer ended its side (after its close handshake: the "TCP close" of RFC 8441 section 5),
    /// so the leg is over: the stream is reset with NO_ERROR, RFC 9113 section 8.1's "stop without an
    /// error" once everything was said. An empty DATA frame with END_STREAM would be as valid, but
    /// hypercorn 0.18 forgets a stream once its app returns and then fails the whole connection, every
    /// other stream with it, on a DATA frame for that stream (KeyError); a reset it handles.
    private func answerEndStream(context: ChannelHandlerContext) {
        guard !self.endedOurSide else { return }
        self.endedOurSide = true
        self.writeGathered(context: context)
        context.writeAndFlush(self.wrapOutboundOut(.rstStream(.noError)), promise: nil)
    }
}

@available(*, unavailable)
extension HTTP2StreamTunnelHandler: Sendable {}
