import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import XCTest

@testable import WSGate

/// The last handler of a pooled upstream connection, on an `EmbeddedChannel` with NIO's codecs.
final class HTTP1UpstreamHandlerTests: XCTestCase {
    private final class Exchange: HTTP1UpstreamExchange {
        var parts: [HTTPClientResponsePart] = []
        var closed = false
        /// Called as the response ends: what the proxy does when the client pipelined its next request.
        var onEnd: (() -> Void)?
        func upstreamResponse(_ part: HTTPClientResponsePart) {
            self.parts.append(part)
            if case .end = part { self.onEnd?() }
        }
        func upstreamReadComplete() {}
        func upstreamWritabilityChanged(isWritable: Bool) {}
        func upstreamClosed() { self.closed = true }
        var mayReadUpstream: Bool { true }
    }

    /// An upstream that sends more than its `Content-Length` (or a body after a 204) must not have
    /// the rest read as the answer to the next request, even when that request was lent the
    /// connection and written in the same read (a pipelined one): the connection is closed instead.
    func testBytesPastAResponseAreNotTheAnswerToTheRequestWrittenInTheSameRead() throws {
        let handler = HTTP1UpstreamHandler()
        let channel = EmbeddedChannel()
        var encoding = HTTPRequestEncoder.Configuration()
        encoding.automaticallySetFramingHeaders = false
        try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder(configuration: encoding))
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes))
        )
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()

        let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Host": "app"])
        let first = Exchange()
        let second = Exchange()
        first.onEnd = {
            handler.exchange = second
            handler.write(.head(request))
            handler.write(.end(nil))
            handler.flush()
        }
        handler.exchange = first
        handler.write(.head(request))
        handler.write(.end(nil))
        handler.flush()

        var bytes = channel.allocator.buffer(capacity: 128)
        bytes.writeString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil")
        try channel.writeInbound(bytes)

        XCTAssertEqual(first.parts.count, 3, "head, body, end")
        XCTAssertTrue(second.parts.isEmpty, "the bytes past the first response answered the second request")
        XCTAssertFalse(channel.isActive, "the connection that spoke unasked is closed")
        XCTAssertTrue(second.closed, "the exchange hears it (and may retry on a fresh connection)")
    }

    func testAnAnswerInALaterReadReachesTheExchange() throws {
        let handler = HTTP1UpstreamHandler()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder())
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes))
        )
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        let exchange = Exchange()
        handler.exchange = exchange
        for _ in 0..<2 {
            handler.write(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Host": "app"])))
            handler.write(.end(nil))
            handler.flush()
            var bytes = channel.allocator.buffer(capacity: 64)
            bytes.writeString("HTTP/1.1 204 No Content\r\n\r\n")
            try channel.writeInbound(bytes)
        }
        XCTAssertEqual(exchange.parts.count, 4)
        XCTAssertTrue(channel.isActive)
    }

    /// On an HTTP/2 stream (behind NIO's HTTP/2-to-HTTP/1 codec) the exchange speaks the same parts:
    /// the request goes as HEADERS and DATA with END_STREAM, the answer comes back as a head, body
    /// and end. The stream channel keeps no count of what waits in it, so the handler counts the body
    /// bytes written until the channel took them.
    func testOnAnHTTP2StreamTheSamePartsGoAndTheQueuedBodyIsCounted() throws {
        let handler = HTTP1UpstreamHandler(countsQueuedBytes: true)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http))
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        let exchange = Exchange()
        handler.exchange = exchange

        handler.write(
            .head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/up", headers: ["Host": "app", "Content-Length": "5"]))
        )
        handler.write(.body(.byteBuffer(ByteBuffer(string: "hello"))))
        XCTAssertEqual(handler.queuedBytes, 5, "written, not yet taken")
        handler.write(.end(nil))
        handler.flush()
        XCTAssertEqual(handler.queuedBytes, 0)
        guard case .headers(let headers) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            return XCTFail("no HEADERS")
        }
        XCTAssertEqual(headers.headers[":authority"], ["app"])
        XCTAssertEqual(headers.headers[":method"], ["POST"])
        guard case .data(let data) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            return XCTFail("no DATA")
        }
        XCTAssertEqual(data.data, .byteBuffer(ByteBuffer(string: "hello")))

        try channel.writeInbound(
            HTTP2Frame.FramePayload.headers(.init(headers: HPACKHeaders([(":status", "200"), ("content-length", "2")])))
        )
        try channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: "ok")), endStream: true)))
        XCTAssertEqual(exchange.parts.count, 3, "head, body, end")
        guard case .head(let head) = exchange.parts.first else { return XCTFail("no head") }
        XCTAssertEqual(head.status, .ok)
        XCTAssertEqual(head.version.major, 2)
    }
}
