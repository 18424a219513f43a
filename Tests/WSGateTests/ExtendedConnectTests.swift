import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import XCTest

@testable import WSGate

/// The extended CONNECT request (RFC 8441) and the stream leg handler, on an `EmbeddedChannel`.
final class ExtendedConnectTests: XCTestCase {
    private func clientRequest() throws -> ClientHandshakeRequest {
        try ClientHandshakeRequest(
            validating: HTTPRequestHead(
                version: .http1_1,
                method: .GET,
                uri: "/ws/chat?x=1",
                headers: HTTPHeaders([
                    ("Host", "chat.example.com"),
                    ("Upgrade", "websocket"),
                    ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                    ("Sec-WebSocket-Version", "13"),
                    ("Sec-WebSocket-Extensions", "permessage-deflate"),
                    ("Sec-WebSocket-Protocol", "chat, superchat"),
                    ("Origin", "https://chat.example.com"),
                    ("Cookie", "a=b"),
                ])
            )
        )
    }

    func testRequestHasThePseudoHeadersAndNoUpgradeMechanics() throws {
        let request = try self.clientRequest()
        let forwarded = ForwardedRequest(
            headers: request.head.headers,
            host: request.host,
            path: "/chat?x=1",
            client: .init(address: try SocketAddress(ipAddress: "192.0.2.7", port: 5555), scheme: "https")
        )
        let headers = ForwardingPolicy().fields(for: forwarded).extendedConnectHeaders(
            scheme: "http",
            authority: "127.0.0.1:9001"
        )
        XCTAssertEqual(headers.first(name: ":method"), "CONNECT")
        XCTAssertEqual(headers.first(name: ":protocol"), "websocket")
        XCTAssertEqual(headers.first(name: ":scheme"), "http")
        XCTAssertEqual(headers.first(name: ":path"), "/chat?x=1")
        XCTAssertEqual(headers.first(name: ":authority"), "chat.example.com")
        XCTAssertEqual(Array(headers.map(\.name).prefix(5)), [":method", ":protocol", ":scheme", ":path", ":authority"])
        XCTAssertEqual(headers.first(name: "sec-websocket-version"), "13")
        XCTAssertEqual(headers.first(name: "sec-websocket-protocol"), "chat, superchat")
        XCTAssertEqual(headers.first(name: "origin"), "https://chat.example.com")
        XCTAssertEqual(headers.first(name: "cookie"), "a=b")
        XCTAssertEqual(headers.first(name: "x-forwarded-for"), "192.0.2.7")
        XCTAssertEqual(headers.first(name: "x-forwarded-proto"), "https")
        for absent in ["host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-extensions"] {
            XCTAssertNil(headers.first(name: absent), absent)
        }
        XCTAssertTrue(headers.allSatisfy { $0.name == $0.name.lowercased() }, "HTTP/2 field names are lowercase")
    }

    private func makeChannel(
        promise: EventLoopPromise<HTTPResponseHead>? = nil
    ) throws -> (EmbeddedChannel, EventLoopFuture<HTTPResponseHead>) {
        let channel = EmbeddedChannel()
        let promise = promise ?? channel.eventLoop.makePromise(of: HTTPResponseHead.self)
        let handler = ExtendedConnectStreamHandler(
            request: HPACKHeaders([(":method", "CONNECT"), (":protocol", "websocket")]),
            offeredSubprotocols: ["chat"],
            promise: promise
        )
        try UpstreamPipeline.configureStream(channel.pipeline.syncOperations, handshake: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, promise.futureResult)
    }

    private func headers(_ status: String, _ extra: [(String, String)] = [], endStream: Bool = false) -> HTTP2Frame.FramePayload {
        .headers(.init(headers: HPACKHeaders([(":status", status)] + extra), endStream: endStream))
    }

    private func data(_ text: String, endStream: Bool = false) -> HTTP2Frame.FramePayload {
        .data(.init(data: .byteBuffer(ByteBuffer(string: text)), endStream: endStream))
    }

    func testSendsTheRequestAndOpensOn2xxHoldingEarlyBytes() throws {
        let (channel, answer) = try self.makeChannel()
        guard case .headers(let request) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            return XCTFail("no request")
        }
        XCTAssertEqual(request.headers.first(name: ":protocol"), "websocket")
        XCTAssertFalse(request.endStream)

        try channel.writeInbound(self.headers("200", [("sec-websocket-protocol", "chat")]))
        let head = try answer.wait()
        XCTAssertEqual(head.status, .ok)
        XCTAssertEqual(head.headers["Sec-WebSocket-Protocol"], ["chat"])

        // Bytes before the session attached are held, then handed on in order.
        try channel.writeInbound(self.data("early"))
        XCTAssertNil(try channel.readInbound(as: ByteBuffer.self))
        try channel.pipeline.syncOperations.handler(type: HTTP2StreamTunnelHandler.self).startForwarding()
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self), ByteBuffer(string: "early"))
        try channel.writeInbound(self.data("later"))
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self), ByteBuffer(string: "later"))

        // Outbound bytes go out as DATA frames.
        try channel.writeOutbound(ByteBuffer(string: "up"))
        guard case .data(let out) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self),
            case .byteBuffer(let bytes) = out.data
        else {
            return XCTFail("no DATA")
        }
        XCTAssertEqual(bytes, ByteBuffer(string: "up"))
        XCTAssertFalse(out.endStream)
    }

    /// Issue 11, finding 6: HPACK carries any bytes; a field of the upstream's answer with CR, LF or
    /// NUL must not reach the client's 101.
    func testAnswerFieldsWithLineBreaksAreNotRelayedToTheClient() throws {
        let head = ExtendedConnectStreamHandler.responseHead(
            status: 200,
            HPACKHeaders([
                (":status", "200"), ("set-cookie", "a=b"), ("set-cookie", "c=d\r\nset-cookie: admin=1"), ("x-nul", "a\u{0}"),
            ])
        )
        XCTAssertEqual(ForwardingPolicy.relayedResponseHeaders(head.headers).map { "\($0.0): \($0.1)" }, ["set-cookie: a=b"])
    }

    /// Issue 11, finding 4: on a stream leg `max_buffered` sees what waits for the stream (an upstream
    /// that stops opening its window): bytes count from the write until the stream takes them.
    func testQueuedBytesCountUntilTheStreamTakesThem() throws {
        let stalled = StalledStreamHandler()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(stalled)
        let handler = ExtendedConnectStreamHandler(
            request: HPACKHeaders([(":method", "CONNECT"), (":protocol", "websocket")]),
            offeredSubprotocols: [],
            promise: channel.eventLoop.makePromise(of: HTTPResponseHead.self)
        )
        try UpstreamPipeline.configureStream(channel.pipeline.syncOperations, handshake: handler)
        let tunnel = try channel.pipeline.syncOperations.handler(type: HTTP2StreamTunnelHandler.self)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(self.headers("200"))
        stalled.release()  // the request HEADERS

        channel.write(ByteBuffer(repeating: 1, count: 100), promise: nil)
        channel.write(ByteBuffer(repeating: 2, count: 5000), promise: nil)
        channel.flush()
        XCTAssertEqual(tunnel.queuedBytes, 5100)
        stalled.release()
        XCTAssertEqual(tunnel.queuedBytes, 0)
        _ = try? channel.finish()
    }

    func testSmallWritesOfOneFlushGoOutAsOneDATAFrame() throws {
        let (channel, answer) = try self.makeChannel()
        _ = try channel.readOutbound(as: HTTP2Frame.FramePayload.self)
        try channel.writeInbound(self.headers("200"))
        _ = try answer.wait()
        channel.write(ByteBuffer(string: "head"), promise: nil)
        channel.write(ByteBuffer(string: "payload"), promise: nil)
        let large = ByteBuffer(repeating: 7, count: 4096)
        channel.write(large, promise: nil)
        channel.flush()
        var frames: [ByteBuffer] = []
        while case .data(let data)? = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) {
            guard case .byteBuffer(let bytes) = data.data else { return XCTFail("not a buffer") }
            frames.append(bytes)
        }
        XCTAssertEqual(frames, [ByteBuffer(string: "headpayload"), large], "gathered small writes first, the large one as is")
    }

    func testEndStreamFromTheUpstreamEndsTheStreamWithoutError() throws {
        let (channel, answer) = try self.makeChannel()
        _ = try channel.readOutbound(as: HTTP2Frame.FramePayload.self)
        try channel.writeInbound(self.headers("200"))
        _ = try answer.wait()
        try channel.pipeline.syncOperations.handler(type: HTTP2StreamTunnelHandler.self).startForwarding()
        try channel.writeInbound(self.data("bye", endStream: true))
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self), ByteBuffer(string: "bye"))
        guard case .rstStream(let code) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            return XCTFail("no RST_STREAM")
        }
        XCTAssertEqual(code, .noError)
    }

    /// A `:status` that is not three digits (`-1` trapped in `HTTPResponseStatus(statusCode:)`) is an
    /// invalid answer: 502 for the client, nothing more.
    func testMalformedStatusFailsTheOpening() throws {
        for status in ["-1", "+200", "2000", "20", "", " 200", "abc"] {
            let (channel, answer) = try self.makeChannel()
            try channel.writeInbound(self.headers(status))
            XCTAssertThrowsError(try answer.wait(), status) { error in
                XCTAssertEqual((error as? UpstreamError)?.kind, .invalidResponse, status)
            }
        }
    }

    func testNon2xxFailsWithItsStatus() throws {
        let (channel, answer) = try self.makeChannel()
        try channel.writeInbound(self.headers("403", endStream: true))
        XCTAssertThrowsError(try answer.wait()) { error in
            XCTAssertEqual((error as? UpstreamError)?.kind, .refused(status: .forbidden))
        }
        XCTAssertFalse(channel.isActive)
    }

    func testSubprotocolNotOfferedFails() throws {
        let (channel, answer) = try self.makeChannel()
        try channel.writeInbound(self.headers("200", [("sec-websocket-protocol", "other")]))
        XCTAssertThrowsError(try answer.wait()) { error in
            XCTAssertEqual((error as? UpstreamError)?.kind, .invalidResponse)
        }
        _ = channel
    }

    func testRefusedStreamBeforeTheAnswerIsReportedAsRefused() throws {
        let (channel, answer) = try self.makeChannel()
        channel.pipeline.fireErrorCaught(NIOHTTP2Errors.streamClosed(streamID: 1, errorCode: .refusedStream))
        XCTAssertThrowsError(try answer.wait()) { error in
            XCTAssertEqual((error as? UpstreamError)?.kind, .streamRefused)
        }
        XCTAssertEqual((UpstreamError(.streamRefused, "x")).rejection.status, .serviceUnavailable)
    }

    func testStreamClosedBeforeTheAnswerFailsTheOpening() throws {
        let (channel, answer) = try self.makeChannel()
        channel.pipeline.fireChannelInactive()
        XCTAssertThrowsError(try answer.wait()) { error in
            XCTAssertEqual((error as? UpstreamError)?.kind, .handshakeFailed)
        }
    }
}

/// Stands for a stream without flow-control window: writes are kept, their promises pending until
/// `release()`.
private final class StalledStreamHandler: ChannelOutboundHandler {
    typealias OutboundIn = HTTP2Frame.FramePayload

    private var held: [EventLoopPromise<Void>?] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.held.append(promise)
    }

    func release() {
        let released = self.held
        self.held = []
        for promise in released { promise?.succeed(()) }
    }
}
