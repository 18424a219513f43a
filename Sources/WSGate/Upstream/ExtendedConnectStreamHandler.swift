import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// The upstream leg of a `websocket-h2` session on its HTTP/2 stream channel: it sends the extended
/// CONNECT request (RFC 8441), checks the answer, then carries the WebSocket bytes, so that the same
/// `WebSocketEndpointHandler` sits on a stream as on a TCP connection.
///
/// - A 2xx answer opens the tunnel; bytes arriving before the session is attached are held and
///   handed on by `startForwarding()`. Any other status fails the opening with that status.
/// - Inbound DATA becomes `ByteBuffer`s, outbound `ByteBuffer`s become DATA frames.
/// - END_STREAM from the upstream is the end of its byte stream (a TCP close): the handler resets the
///   stream with NO_ERROR, which closes it and makes the leg inactive.
/// - RST_STREAM reaches the endpoint as an error and closes the leg (this client only).
///
/// Reads stay demand-driven: the stream channel delivers DATA, and sends WINDOW_UPDATE, only when
/// the session lets this leg `read()`.
final class ExtendedConnectStreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum State {
        case idle
        case awaitingResponse
        /// The tunnel is open; the session has not attached yet.
        case holding([ByteBuffer])
        case open
        case failed
    }

    private let request: HPACKHeaders
    private let offeredSubprotocols: [String]
    private let promise: EventLoopPromise<HTTPResponseHead>
    private var state: State = .idle
    private var context: ChannelHandlerContext?
    private var receivedEndStream = false
    /// Small writes waiting for the next flush, sent as one DATA frame.
    private var gathered: ByteBuffer?
    /// Whether `gathered` is a buffer of this handler's (else it is the first write itself, held
    /// as it is: a flush of a single write sends it without a copy).
    private var gatheredIsOwn = false
    private var gatheredPromise: EventLoopPromise<Void>?
    private var endedOurSide = false

    init(request: HPACKHeaders, offeredSubprotocols: [String], promise: EventLoopPromise<HTTPResponseHead>) {
        self.request = request
        self.offeredSubprotocols = offeredSubprotocols
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { self.sendRequest(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.sendRequest(context: context)
        context.fireChannelActive()
    }

    private func sendRequest(context: ChannelHandlerContext) {
        guard case .idle = self.state else { return }
        self.state = .awaitingResponse
        context.writeAndFlush(self.wrapOutboundOut(.headers(.init(headers: self.request))), promise: nil)
    }

    /// Hands the bytes that arrived between the 2xx and the session's handlers on, and from now on
    /// forwards every byte. Called once the session's handlers are in place.
    func startForwarding() {
        guard case .holding(let held) = self.state, let context = self.context else { return }
        self.state = .open
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
            self.receivedHeaders(headers.headers, endStream: headers.endStream, context: context)
        case .data(let data):
            guard case .byteBuffer(let buffer) = data.data else { break }
            self.receivedData(buffer, endStream: data.endStream, context: context)
        default:
            // RST_STREAM arrives as an error; the other frames concern the connection.
            break
        }
    }

    private func receivedHeaders(_ headers: HPACKHeaders, endStream: Bool, context: ChannelHandlerContext) {
        switch self.state {
        case .awaitingResponse:
            // RFC 9113 section 8.3.2: three digits (a negative code would trap in HTTPResponseStatus).
            guard let statusText = headers.first(name: ":status"), statusText.utf8.count == 3,
                statusText.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let code = Int(statusText)
            else {
                self.fail(UpstreamError(.invalidResponse, "response without a three-digit :status"), context: context)
                return
            }
            // 1xx (informational) answers precede the real one.
            if (100..<200).contains(code) { return }
            let head = Self.responseHead(status: code, headers)
            guard (200..<300).contains(code) else {
                self.fail(UpstreamError(.refused(status: head.status), "\(code) on an extended CONNECT"), context: context)
                return
            }
            if let problem = UpstreamNegotiationCheck.problem(in: head.headers, offeredSubprotocols: self.offeredSubprotocols) {
                self.fail(UpstreamError(.invalidResponse, problem), context: context)
                return
            }
            if endStream {
                self.fail(UpstreamError(.invalidResponse, "\(code) with END_STREAM: no tunnel"), context: context)
                return
            }
            self.state = .holding([])
            self.promise.succeed(head)
        case .holding, .open:
            // Trailers end the stream like an empty DATA frame with END_STREAM.
            if endStream { self.receivedData(context.channel.allocator.buffer(capacity: 0), endStream: true, context: context) }
        case .idle, .failed:
            break
        }
    }

    private func receivedData(_ buffer: ByteBuffer, endStream: Bool, context: ChannelHandlerContext) {
        switch self.state {
        case .awaitingResponse:
            self.fail(UpstreamError(.invalidResponse, "DATA before the response"), context: context)
            return
        case .holding(var held):
            if buffer.readableBytes > 0 { held.append(buffer) }
            self.state = .holding(held)
        case .open:
            if buffer.readableBytes > 0 { context.fireChannelRead(self.wrapInboundOut(buffer)) }
        case .idle, .failed:
            return
        }
        if endStream {
            self.receivedEndStream = true
            if case .open = self.state { self.answerEndStream(context: context) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .open = self.state { context.fireChannelReadComplete() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch self.state {
        case .idle, .awaitingResponse:
            if let closed = error as? NIOHTTP2Errors.StreamClosed, closed.errorCode == .refusedStream {
                self.fail(UpstreamError(.streamRefused, "stream refused (REFUSED_STREAM)"), context: context)
            } else {
                self.fail(UpstreamError(.handshakeFailed, "stream failed before the response: \(error)"), context: context)
            }
        case .holding, .open, .failed:
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch self.state {
        case .idle, .awaitingResponse:
            self.fail(UpstreamError(.handshakeFailed, "stream closed before the response"), context: context)
        case .holding, .open, .failed:
            break
        }
        context.fireChannelInactive()
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

    /// The upstream ended its side (after its close handshake: the "TCP close" of RFC 8441 section 5),
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

    private func fail(_ error: UpstreamError, context: ChannelHandlerContext) {
        switch self.state {
        case .failed, .holding, .open:
            return
        case .idle, .awaitingResponse:
            self.state = .failed
            self.promise.fail(error)
            context.close(promise: nil)
        }
    }

    /// The answer as an HTTP/1-shaped head (what the client leg relays), pseudo-headers left out.
    static func responseHead(status: Int, _ headers: HPACKHeaders) -> HTTPResponseHead {
        var fields = HTTPHeaders()
        for (name, value, _) in headers where !name.hasPrefix(":") {
            fields.add(name: name, value: value)
        }
        return HTTPResponseHead(version: .init(major: 2, minor: 0), status: .init(statusCode: status), headers: fields)
    }
}

@available(*, unavailable)
extension ExtendedConnectStreamHandler: Sendable {}
