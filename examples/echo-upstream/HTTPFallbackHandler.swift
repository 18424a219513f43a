import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Answers HTTP requests that were not upgraded to WebSocket, then closes the connection:
/// `/reject/STATUS` gets STATUS, another upgrade request that NIO refused gets 400,
/// a plain HTTP request gets 426 Upgrade Required.
///
/// It sits after NIO's upgrade handler and is removed from the pipeline when an upgrade happens.
final class HTTPFallbackHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "echo-upstream.http-fallback"

    private var head: HTTPRequestHead?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.respond(to: head, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let status: HTTPResponseStatus
        var headers = HTTPHeaders()
        if case .reject(let code) = Behaviour(uri: request.uri) {
            status = HTTPResponseStatus(statusCode: code)
        } else if request.headers.contains(name: "Upgrade") {
            status = .badRequest
        } else {
            status = .upgradeRequired
            headers.add(name: "Upgrade", value: "websocket")
        }
        let body = ByteBuffer(string: "echo-upstream: \(status.code) \(status.reasonPhrase)\n")
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")

        let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO's upgrade handler reports why it did not upgrade (e.g. our shouldUpgrade said no)
        // and then passes the request on to us: answer that request rather than closing.
        if error is NIOWebSocketUpgradeError {
            return
        }
        context.close(promise: nil)
    }
}
