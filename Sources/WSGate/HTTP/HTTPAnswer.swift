import NIOCore
import NIOHTTP1

/// A plain HTTP/1.1 answer the gateway writes itself: admin endpoints, refused handshakes, a request
/// head over `max_header_bytes`. The one place that frames such an answer: `Content-Type` and
/// `Content-Length` from the body, then the answer's own headers, then `Connection: close` when the
/// connection ends with it.
struct HTTPAnswer: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var headers: [(String, String)]
    var body: [UInt8]

    init(status: HTTPResponseStatus, contentType: String, body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    /// `text` and a line feed, as `text/plain; charset=utf-8`.
    static func text(_ status: HTTPResponseStatus, _ text: String, headers: [(String, String)] = []) -> Self {
        Self(status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8), headers: headers)
    }

    /// The answer's head; `closing` adds `Connection: close`.
    func head(closing: Bool) -> HTTPResponseHead {
        var headers = HTTPHeaders([("Content-Type", self.contentType), ("Content-Length", String(self.body.count))])
        headers.add(contentsOf: self.headers)
        if closing { headers.add(name: "Connection", value: "close") }
        return HTTPResponseHead(version: .http1_1, status: self.status, headers: headers)
    }

    /// Writes the answer as `HTTPServerResponsePart`s from a handler behind NIO's HTTP response encoder,
    /// and flushes; with `closing`, the channel is closed once the answer is written, or after
    /// ``closeDeadline`` if it is not by then (an HTTP/2 stream whose client gives it no window, a
    /// socket whose client reads nothing).
    func write(to context: ChannelHandlerContext, closing: Bool) {
        var body = context.channel.allocator.buffer(capacity: self.body.count)
        body.writeBytes(self.body)
        context.write(NIOAny(HTTPServerResponsePart.head(self.head(closing: closing))), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        let written = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        guard closing else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let deadline = context.eventLoop.scheduleTask(in: Self.closeDeadline) { loopBound.value.close(promise: nil) }
        written.assumeIsolated().whenComplete { _ in
            deadline.cancel()
            context.close(promise: nil)
        }
    }

    /// How long a closing answer may take to be written before its channel is closed regardless.
    static let closeDeadline = TimeAmount.seconds(2)

    /// The answer's bytes on the wire, `Connection: close` included, for a handler that sits in
    /// front of the HTTP codec.
    func encoded(allocator: ByteBufferAllocator) -> ByteBuffer {
        let head = self.head(closing: true)
        var buffer = allocator.buffer(capacity: 128 + self.body.count)
        buffer.writeString("HTTP/1.1 \(head.status.code) \(head.status.reasonPhrase)\r\n")
        for (name, value) in head.headers {
            buffer.writeString("\(name): \(value)\r\n")
        }
        buffer.writeString("\r\n")
        buffer.writeBytes(self.body)
        return buffer
    }
}
