import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import XCTest

@testable import WSGate

/// HTTP/2 toward clients without I/O: the handshake machine's rules for ALPN `h2` and for a stream
/// (RFC 8441 extended CONNECT; any other CONNECT stays 501), the stream kinds, and the CONNECT
/// opening on an `EmbeddedChannel`.
final class HTTP2ClientHandshakeTests: XCTestCase {
    private static let routes = [
        RouteConfiguration(name: "chat", match: RouteMatch(path: .prefix("/chat")), upstream: "up"),
        RouteConfiguration(name: "admin", match: RouteMatch(path: .exact("/admin")), upstream: "up", origins: ["https://example.com"]),
    ]

    private func machine(stream: HTTP2StreamKind? = nil, isTLS: Bool = true) -> ClientHandshakeStateMachine {
        ClientHandshakeStateMachine(
            routeTable: RouteTable(configuration: GatewayConfiguration(listeners: [], routes: Self.routes)),
            maxHeaders: 10,
            retryAfter: .seconds(1),
            isTLS: isTLS,
            stream: stream
        )
    }

    /// The head ``ExtendedConnectServerCodec`` makes of an extended CONNECT's HEADERS.
    private func connectHead(_ path: String = "/chat/room", extra: [(String, String)] = [], version: String? = "13") -> HTTPRequestHead {
        var fields: [(String, String)] = [
            (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"), (":path", path),
            (":authority", "gw.example"),
        ]
        if let version { fields.append(("sec-websocket-version", version)) }
        return ExtendedConnectServerCodec.requestHead(HPACKHeaders(fields + extra))!
    }

    private func assertRejects(
        _ action: ClientHandshakeStateMachine.Action,
        _ status: HTTPResponseStatus,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        guard case .reject(let rejection, _) = action else {
            return XCTFail("expected a \(status.code) rejection, got \(action)", file: file, line: line)
        }
        XCTAssertEqual(rejection.status, status, file: file, line: line)
    }

    // MARK: ALPN

    func testALPNh2MakesTheConnectionAnHTTP2OneAndHTTP1KeepsTheHandshake() {
        var h2 = self.machine()
        guard case .serveHTTP2 = h2.transportReady(negotiatedProtocol: "h2") else { return XCTFail("no HTTP/2") }
        guard case .none = h2.requestHead(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/chat")) else {
            return XCTFail("an HTTP/2 connection reads no HTTP/1 request")
        }
        for negotiated in ["http/1.1", nil] {
            var http1 = self.machine()
            guard case .none = http1.transportReady(negotiatedProtocol: negotiated) else { return XCTFail() }
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/chat", headers: ["Host": "gw.example"])
            guard case .reject = http1.requestHead(head) else { return XCTFail("the request is read (426: no upgrade)") }
        }
    }

    func testAConnectionRefusedAtAcceptIsClosedWhenItNegotiatesHTTP2() {
        var refused = self.machine()
        guard case .close = refused.transportReady(negotiatedProtocol: "h2", refusedAtAccept: true) else {
            return XCTFail("an HTTP/2 connection over the limits would hold no slot")
        }
        var http1 = self.machine()
        guard case .none = http1.transportReady(negotiatedProtocol: "http/1.1", refusedAtAccept: true) else {
            return XCTFail("over HTTP/1.1 it reads its request and gets the 503")
        }
    }

    func testAStreamNeedsNoTLSHandshakeOfItsOwn() {
        var machine = self.machine(stream: .connect(protocol: "websocket"))
        guard case .admit = machine.requestHead(self.connectHead()) else { return XCTFail("not admitted") }
    }

    // MARK: Extended CONNECT

    func testExtendedConnectOpensTheUpstreamWithoutARequestEndAndAnswers200() {
        var machine = self.machine(stream: .connect(protocol: "websocket"))
        let offer = [("sec-websocket-protocol", "chat.v2, chat.v1"), ("sec-websocket-extensions", "permessage-deflate")]
        guard case .admit(let route) = machine.requestHead(self.connectHead(extra: offer)) else { return XCTFail() }
        XCTAssertEqual(route.name, "chat")
        guard case .openUpstream(let request, let selection, _) = machine.admission(refusal: nil, memoryPressure: .normal) else {
            return XCTFail("the stream's DATA is the tunnel: no end to wait for")
        }
        XCTAssertEqual(request.subprotocols, ["chat.v2", "chat.v1"])
        XCTAssertEqual(request.host, "gw.example")
        XCTAssertEqual(selection.upstreamPath, "/chat/room")
        XCTAssertTrue(machine.holdsReads)
        let answer = machine.upstreamOpened(subprotocol: "chat.v2", relayedHeaders: [], memoryPressure: .normal)
        guard case .answer(.ok, let headers) = answer else { return XCTFail("no 200: \(answer)") }
        XCTAssertEqual(headers["Sec-WebSocket-Accept"], [], "RFC 8441 section 5: no accept")
        XCTAssertEqual(headers["Upgrade"], [])
        XCTAssertEqual(headers["Connection"], [])
        XCTAssertEqual(headers["Sec-WebSocket-Protocol"], ["chat.v2"])
        XCTAssertEqual(headers["Sec-WebSocket-Extensions"].count, 1, "permessage-deflate on the stream as on a connection")
        guard case .startSession(_, _, let compression?, _) = machine.codecsRetired() else { return XCTFail() }
        XCTAssertFalse(compression.serverNoContextTakeover)
    }

    func testExtendedConnectThatEndsItsStreamIs400() {
        var machine = self.machine(stream: .connect(protocol: "websocket"))
        _ = machine.requestHead(self.connectHead())
        _ = machine.admission(refusal: nil, memoryPressure: .normal)
        self.assertRejects(machine.requestEnd(), .badRequest)
        guard case .discardUpstream = machine.upstreamOpened(subprotocol: nil, relayedHeaders: [], memoryPressure: .normal) else {
            return XCTFail("an upstream arriving after the refusal is closed")
        }
    }

    func testExtendedConnectChecksVersionOriginAndTarget() {
        var noVersion = self.machine(stream: .connect(protocol: "websocket"))
        self.assertRejects(noVersion.requestHead(self.connectHead(version: nil)), .badRequest)
        var oldVersion = self.machine(stream: .connect(protocol: "websocket"))
        self.assertRejects(oldVersion.requestHead(self.connectHead(version: "8")), .upgradeRequired)
        var foreign = self.machine(stream: .connect(protocol: "websocket"))
        self.assertRejects(foreign.requestHead(self.connectHead("/admin", extra: [("origin", "https://evil.example")])), .forbidden)
        var allowed = self.machine(stream: .connect(protocol: "websocket"))
        guard case .admit = allowed.requestHead(self.connectHead("/admin", extra: [("origin", "https://example.com")])) else {
            return XCTFail()
        }
        var dotted = self.machine(stream: .connect(protocol: "websocket"))
        self.assertRejects(dotted.requestHead(self.connectHead("/chat/../admin")), .badRequest)
        var unrouted = self.machine(stream: .connect(protocol: "websocket"))
        self.assertRejects(unrouted.requestHead(self.connectHead("/nowhere")), .notFound)
    }

    func testAnyOtherConnectIs501OnAStreamAsOnHTTP1() {
        var plain = self.machine(stream: .connect(protocol: nil))
        let tunnel = ExtendedConnectServerCodec.requestHead(HPACKHeaders([(":method", "CONNECT"), (":authority", "db.internal:5432")]))!
        XCTAssertEqual(tunnel.uri, "db.internal:5432")
        self.assertRejects(plain.requestHead(tunnel), .notImplemented)
        var other = self.machine(stream: .connect(protocol: "webtransport"))
        self.assertRejects(other.requestHead(self.connectHead()), .notImplemented)
        var http1 = self.machine(isTLS: false)
        let head = HTTPRequestHead(version: .http1_1, method: .CONNECT, uri: "/chat", headers: ["Host": "gw.example"])
        self.assertRejects(http1.requestHead(head), .notImplemented)
    }

    func testAPlainRequestForAWebSocketRouteOnAStreamIs400() {
        var machine = self.machine(stream: .request)
        let head = HTTPRequestHead(version: .init(major: 2, minor: 0), method: .GET, uri: "/chat", headers: ["host": "gw.example"])
        self.assertRejects(machine.requestHead(head), .badRequest)
    }

    func testStreamKinds() {
        XCTAssertEqual(HTTP2StreamKind(requestHeaders: [":method": "GET"]), .request)
        XCTAssertEqual(HTTP2StreamKind(requestHeaders: [":method": "CONNECT"]), .connect(protocol: nil))
        let websocket = HTTP2StreamKind(requestHeaders: HPACKHeaders([(":method", "CONNECT"), (":protocol", "WebSocket")]))
        XCTAssertTrue(websocket.isWebSocket)
        XCTAssertFalse(HTTP2StreamKind.connect(protocol: nil).isWebSocket)
        let sameHost = HPACKHeaders([(":method", "GET"), (":authority", "gw.example"), ("host", "GW.example")])
        XCTAssertEqual(HTTP2StreamKind(requestHeaders: sameHost), .request, "host may repeat :authority (any case)")
        for method in ["GET", "CONNECT"] {
            let otherHost = HPACKHeaders([(":method", method), (":authority", "gw.example"), ("host", "admin.internal")])
            guard case .malformed = HTTP2StreamKind(requestHeaders: otherHost) else {
                return XCTFail("\(method) with a host that is not its :authority (RFC 9113 section 8.3.1)")
            }
        }
    }

    /// Routes match on `Host`, which NIO's HTTP/2-to-HTTP/1 codec keeps over `:authority` when both
    /// are sent: a client naming two authorities could be routed by one and served by the other.
    func testAHostThatIsNotTheAuthorityIs400() {
        let headers = HPACKHeaders([
            (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"), (":path", "/chat"),
            (":authority", "gw.example"), ("host", "admin.internal"), ("sec-websocket-version", "13"),
        ])
        var machine = self.machine(stream: HTTP2StreamKind(requestHeaders: headers))
        self.assertRejects(machine.requestHead(ExtendedConnectServerCodec.requestHead(headers)!), .badRequest)
    }

    // MARK: The CONNECT opening

    func testTheOpeningTranslatesTheHeadKeepsEarlyDATAAndAnswersWithHEADERS() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ExtendedConnectServerCodec(), name: "codec")
        let fields = HPACKHeaders([
            (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"), (":path", "/chat?x=1"),
            (":authority", "gw.example:8443"), ("sec-websocket-version", "13"),
        ])
        try channel.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: fields)))
        guard case .head(let head) = try channel.readInbound(as: HTTPServerRequestPart.self) else { return XCTFail("no head") }
        XCTAssertEqual(head.method, .CONNECT)
        XCTAssertEqual(head.uri, "/chat?x=1")
        XCTAssertEqual(head.headers["Host"], ["gw.example:8443"])
        XCTAssertFalse(head.headers.contains(name: ":protocol"))

        try channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: "early")))))
        XCTAssertNil(try channel.readInbound(as: ByteBuffer.self), "kept until the opening leaves")

        var answer = HTTPHeaders([("Sec-WebSocket-Protocol", "chat"), ("Connection", "close")])
        answer.add(name: "Content-Length", value: "0")
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: answer)))
        guard case .headers(let out) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else { return XCTFail() }
        XCTAssertEqual(out.headers.first(name: ":status"), "200")
        XCTAssertEqual(out.headers.first(name: "sec-websocket-protocol"), "chat")
        XCTAssertFalse(out.headers.contains(name: "connection"), "no HTTP/1 connection fields on HTTP/2")
        XCTAssertFalse(out.endStream)

        try channel.pipeline.syncOperations.removeHandler(name: "codec").wait()
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self), ByteBuffer(string: "early"))
    }

    func testARefusalEndsTheStream() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ExtendedConnectServerCodec())
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .forbidden)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        guard case .headers = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else { return XCTFail() }
        guard case .data(let end) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else { return XCTFail() }
        XCTAssertTrue(end.endStream)
    }

    func testAConnectWithoutAuthorityIsMalformed() {
        XCTAssertNil(ExtendedConnectServerCodec.requestHead(HPACKHeaders([(":method", "CONNECT"), (":path", "/chat")])))
    }
}

/// `listeners[].http2`: defaults, limits, and the mistakes `wsgate validate` reports at their line.
final class ListenerHTTP2ConfigurationTests: XCTestCase {
    private static func issues(_ yaml: String) -> [String] {
        do {
            _ = try GatewayConfiguration.parse(yaml: yaml, file: "t.yaml")
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    func testOnByDefaultOnTLSListenersAndLimitsAreRead() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                listeners:
                  - {name: a, address: 127.0.0.1:8443, tls: {self_signed: true}}
                  - name: b
                    address: 127.0.0.1:8444
                    tls: {self_signed: true}
                    http2: {max_concurrent_streams: 8, max_header_list_size: 8KiB, initial_window_size: 1MiB}
                  - name: c
                    address: 127.0.0.1:8445
                    tls: {self_signed: true}
                    http2: {enabled: false}
                  - {name: d, address: 127.0.0.1:8446}
                """,
            file: "t.yaml"
        )
        let listeners = configuration.listeners
        XCTAssertEqual(listeners[0].http2, ListenerHTTP2Configuration(enabled: true))
        XCTAssertTrue(listeners[0].servesHTTP2, "a TLS listener offers h2 unless told not to")
        XCTAssertEqual(listeners[1].http2.maxConcurrentStreams, 8)
        XCTAssertEqual(listeners[1].http2.maxHeaderListSize, 8 * 1024)
        XCTAssertEqual(listeners[1].http2.initialWindowSize, 1 << 20)
        XCTAssertFalse(listeners[2].servesHTTP2)
        XCTAssertFalse(listeners[3].servesHTTP2, "no h2c on a plain listener")
        let settings = HTTP2ServerPipeline.settings(listeners[1].http2)
        XCTAssertTrue(settings.contains(HTTP2Setting(parameter: .enableConnectProtocol, value: 1)), "RFC 8441 section 3")
        XCTAssertTrue(settings.contains(HTTP2Setting(parameter: .maxConcurrentStreams, value: 8)))
    }

    func testMistakesAreReportedAtTheirLine() {
        let issues = Self.issues(
            """
            listeners:
              - name: a
                address: 127.0.0.1:8443
                tls: {self_signed: true}
                http2: {max_concurrent_streams: 0, initial_window_size: 1KiB, max_header_list_size: 2MiB, enable: true}
              - name: b
                address: 127.0.0.1:8444
                http2: {enabled: true}
            """
        )
        XCTAssertEqual(issues.count, 5, "\(issues)")
        XCTAssertTrue(issues.contains { $0.hasPrefix("t.yaml:5:") && $0.contains("max_concurrent_streams") }, "\(issues)")
        XCTAssertTrue(issues.contains { $0.contains("initial_window_size") && $0.contains("16KiB") }, "\(issues)")
        XCTAssertTrue(issues.contains { $0.contains("max_header_list_size") }, "\(issues)")
        XCTAssertTrue(issues.contains { $0.contains("enable") && $0.contains("enabled") }, "did you mean: \(issues)")
        XCTAssertTrue(issues.contains { $0.hasPrefix("t.yaml:8:") && $0.contains("TLS listeners only") }, "\(issues)")
    }

    /// What a connection's streams may hold unread (every window full) is capped: it is outside
    /// `max_memory`, like a socket's receive buffer.
    func testStreamsTimesWindowIsCappedPerConnection() {
        let issues = Self.issues(
            """
            listeners:
              - name: a
                address: 127.0.0.1:8443
                tls: {self_signed: true}
                http2: {max_concurrent_streams: 1000, initial_window_size: 64KiB}
              - name: b
                address: 127.0.0.1:8444
                tls: {self_signed: true}
                http2: {max_concurrent_streams: 256, initial_window_size: 64KiB}
            """
        )
        XCTAssertEqual(issues.count, 1, "\(issues)")
        XCTAssertTrue(issues.first?.hasPrefix("t.yaml:5:") == true, "\(issues)")
        XCTAssertTrue(issues.first?.contains("listeners[0].http2") == true && issues.first?.contains("16MiB") == true, "\(issues)")
    }
}

/// The tunnel in the server role: bytes on at once, END_STREAM answered with RST_STREAM NO_ERROR.
final class HTTP2StreamTunnelHandlerTests: XCTestCase {
    func testForwardsAtOnceAndEndsOnEndStream() throws {
        let channel = EmbeddedChannel(handler: HTTP2StreamTunnelHandler(forwarding: true))
        try channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: "frame")))))
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self), ByteBuffer(string: "frame"))
        try channel.writeOutbound(ByteBuffer(string: "echo"))
        guard case .data(let out) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else { return XCTFail() }
        XCTAssertFalse(out.endStream)
        let tunnel = try channel.pipeline.syncOperations.handler(type: HTTP2StreamTunnelHandler.self)
        XCTAssertEqual(tunnel.queuedBytes, 0)
        try channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)))
        guard case .rstStream(.noError) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else { return XCTFail() }
        XCTAssertThrowsError(try channel.writeOutbound(ByteBuffer(string: "late")), "nothing after our end")
    }
}
