import Foundation
import NIOCore
import NIOHTTP1

/// Answers `POST /reload` on the admin listener and passes every other request on, untouched, to
/// the handlers after it. Kept apart from the other admin routes: it is the only one that changes
/// the gateway, and the only one that waits on a task.
///
/// Answers: 200 with `{"version":N,"sha256":"…","loaded_at":"…"}` when the new configuration is
/// served; 422 with the error text (file, line and key of every issue) when it was rejected and the
/// old one keeps serving; 503 while the gateway shuts down; 405 for another method on `/reload`.
final class AdminReloadHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// How a reload asked for over HTTP ended.
    enum Outcome: Sendable {
        case reloaded(ConfigurationStatus)
        /// The configuration was refused; the text names every issue.
        case rejected(String)
        /// No reload is possible now (shutting down).
        case unavailable(String)
    }

    static let path = "/reload"

    private let reload: @Sendable () async -> Outcome
    /// Whether the request being read is one this handler answers.
    private var answering: HTTPRequestHead?

    init(reload: @escaping @Sendable () async -> Outcome) {
        self.reload = reload
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        if case .head(let head) = part {
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            self.answering = path == Self.path ? head : nil
        }
        guard let head = self.answering else {
            context.fireChannelRead(data)
            return
        }
        guard case .end = part else { return }
        self.answering = nil
        guard head.method == .POST else {
            self.respond(.methodNotAllowed, "method not allowed (use POST)\n", type: "text/plain", head: head, context: context)
            return
        }
        let reload = self.reload
        let promise = context.eventLoop.makePromise(of: Outcome.self)
        promise.completeWithTask { await reload() }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { outcome in
            let (handler, context) = loopBound.value
            switch outcome {
            case .reloaded(let status):
                handler.respond(.ok, Self.json(status), type: "application/json", head: head, context: context)
            case .rejected(let text):
                handler.respond(.unprocessableEntity, text + "\n", type: "text/plain", head: head, context: context)
            case .unavailable(let text):
                handler.respond(.serviceUnavailable, text + "\n", type: "text/plain", head: head, context: context)
            }
        }
    }

    private static func json(_ status: ConfigurationStatus) -> String {
        let sha = status.sha256.map { "\"\($0)\"" } ?? "null"
        let loaded = ISO8601DateFormatter().string(from: status.loadedAt)
        return "{\"version\":\(status.version),\"sha256\":\(sha),\"loaded_at\":\"\(loaded)\"}\n"
    }

    private func respond(_ status: HTTPResponseStatus, _ body: String, type: String, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = HTTPHeaders([("Content-Type", "\(type); charset=utf-8"), ("Content-Length", String(buffer.readableBytes))])
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !head.isKeepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension AdminReloadHandler: Sendable {}
