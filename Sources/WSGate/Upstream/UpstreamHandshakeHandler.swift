import NIOCore
import NIOHTTP1

/// Sends the upgrade request on a fresh upstream connection and checks the answer (RFC 6455
/// section 4.1): a 101 with the right `Sec-WebSocket-Accept` and an offered subprotocol opens the leg;
/// any other status fails it with that status so the client can be told.
final class UpstreamHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// The body of a refusal kept for the log; the rest is discarded.
    private static let maxRefusalBody = 1024

    private enum State {
        case idle
        case awaitingResponse
        case upgrading(HTTPResponseHead)
        case refused(HTTPResponseHead, body: ByteBuffer)
        /// The leg is open; what arrives now belongs to the session (``HandshakeLeftovers``).
        case upgraded
        case done
    }

    private let request: HTTPRequestHead
    private let expectedAccept: String
    private let offeredSubprotocols: [String]
    private let promise: EventLoopPromise<HTTPResponseHead>
    private var state: State = .idle
    private var leftovers = HandshakeLeftovers()

    init(request: HTTPRequestHead, key: String, offeredSubprotocols: [String], promise: EventLoopPromise<HTTPResponseHead>) {
        self.request = request
        self.expectedAccept = WebSocketAccept.value(forKey: key)
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
        context.write(self.wrapOutboundOut(.head(self.request)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .upgraded = self.state {
            self.leftovers.append(data)
            return
        }
        switch (self.state, self.unwrapInboundIn(data)) {
        case (.awaitingResponse, .head(let head)):
            guard head.status == .switchingProtocols else {
                self.state = .refused(head, body: context.channel.allocator.buffer(capacity: 0))
                return
            }
            if let problem = self.problem(with: head) {
                self.fail(UpstreamError(.invalidResponse, problem), context: context)
                return
            }
            self.state = .upgrading(head)
        case (.refused(let head, var body), .body(var part)):
            if body.readableBytes < Self.maxRefusalBody {
                body.writeBuffer(&part)
            }
            self.state = .refused(head, body: body)
        case (.refused(let head, let body), .end):
            let text = String(
                buffer: body.getSlice(at: body.readerIndex, length: min(body.readableBytes, Self.maxRefusalBody)) ?? body
            )
            self.fail(UpstreamError(.refused(status: head.status), "\(head.status.code) \(text)"), context: context)
        case (.upgrading(let head), .end):
            self.state = .upgraded
            self.promise.succeed(head)
        case (.upgrading, .body), (.upgrading, .head), (.refused, .head):
            self.fail(UpstreamError(.invalidResponse, "unexpected data in the handshake response"), context: context)
        case (.idle, _), (.awaitingResponse, _), (.upgraded, _), (.done, _):
            break
        }
    }

    /// Leaves the pipeline once the session's handlers sit behind this one, handing them what the
    /// upstream sent right after its 101.
    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        self.leftovers.replay(context: context)
        context.leavePipeline(removalToken: removalToken)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.fail(UpstreamError(.handshakeFailed, "connection closed during the handshake"), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(UpstreamError(.invalidResponse, "\(error)"), context: context)
    }

    private func problem(with head: HTTPResponseHead) -> String? {
        guard head.headers[canonicalForm: "Upgrade"].contains(where: { $0.lowercased() == "websocket" }) else {
            return "101 without Upgrade: websocket"
        }
        guard head.headers[canonicalForm: "Connection"].contains(where: { $0.lowercased() == "upgrade" }) else {
            return "101 without Connection: upgrade"
        }
        guard head.headers["Sec-WebSocket-Accept"].first?.trimmingSpaces == self.expectedAccept else {
            return "wrong Sec-WebSocket-Accept"
        }
        return UpstreamNegotiationCheck.problem(in: head.headers, offeredSubprotocols: self.offeredSubprotocols)
    }

    private func fail(_ error: UpstreamError, context: ChannelHandlerContext) {
        switch self.state {
        case .upgraded:
            // Lost or broken before the session took over: the session start sees it inactive.
            context.close(promise: nil)
        case .done:
            return
        case .idle, .awaitingResponse, .upgrading, .refused:
            self.state = .done
            self.promise.fail(error)
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension UpstreamHandshakeHandler: Sendable {}
