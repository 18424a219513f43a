import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// The opening of a `websocket-h2` session's upstream leg on its HTTP/2 stream channel: it sends the
/// extended CONNECT request (RFC 8441), checks the answer, then leaves the pipeline to the
/// ``HTTP2StreamTunnelHandler`` behind it, which carries the WebSocket bytes and holds what arrives
/// before the session attaches.
///
/// A 2xx answer opens the tunnel; any other status fails the opening with that status, as does DATA
/// before the answer, a reset or the stream closing.
final class ExtendedConnectStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum State {
        case idle
        case awaitingResponse
        case failed
    }

    private let request: HPACKHeaders
    private let offeredSubprotocols: [String]
    private let promise: EventLoopPromise<HTTPResponseHead>
    private var state: State = .idle

    init(request: HPACKHeaders, offeredSubprotocols: [String], promise: EventLoopPromise<HTTPResponseHead>) {
        self.request = request
        self.offeredSubprotocols = offeredSubprotocols
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.sendRequest(context: context) }
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

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .headers(let headers):
            self.receivedHeaders(headers.headers, endStream: headers.endStream, context: context)
        case .data:
            self.fail(UpstreamError(.invalidResponse, "DATA before the response"), context: context)
        default:
            // RST_STREAM arrives as an error; the other frames concern the connection.
            break
        }
    }

    private func receivedHeaders(_ headers: HPACKHeaders, endStream: Bool, context: ChannelHandlerContext) {
        guard case .awaitingResponse = self.state else { return }
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
        // What follows the answer is the tunnel's, which holds it until the session attaches.
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        self.promise.succeed(head)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let closed = error as? NIOHTTP2Errors.StreamClosed, closed.errorCode == .refusedStream {
            self.fail(UpstreamError(.streamRefused, "stream refused (REFUSED_STREAM)"), context: context)
        } else {
            self.fail(UpstreamError(.handshakeFailed, "stream failed before the response: \(error)"), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.fail(UpstreamError(.handshakeFailed, "stream closed before the response"), context: context)
        context.fireChannelInactive()
    }

    private func fail(_ error: UpstreamError, context: ChannelHandlerContext) {
        switch self.state {
        case .failed:
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
