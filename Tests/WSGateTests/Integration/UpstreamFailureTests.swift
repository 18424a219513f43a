import NIOCore
import NIOPosix
import XCTest

@testable import WSGate

/// What a client gets when the upstream fails it: the next endpoint when one is unreachable, 504
/// when the upstream accepts the connection and never answers the upgrade, 502 when its 101 picks a
/// subprotocol or an extension that was never offered (RFC 6455 section 4.1, the HTTP/1.1 path).
final class UpstreamFailureTests: XCTestCase {
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!
    /// Accepts connections and never reads or answers: an upstream that hangs.
    private var silentUpstream: (any Channel)!
    /// Answers every upgrade with a correct 101 plus the extra header its path names.
    private var lyingUpstream: (any Channel)!

    override func setUp() async throws {
        self.upstream = try await PeerProcess.pythonEchoServer()
        self.silentUpstream = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0).get()
        let silentPort = try XCTUnwrap(self.silentUpstream.localAddress?.port)
        self.lyingUpstream = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(LyingUpgradeHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let lyingPort = try XCTUnwrap(self.lyingUpstream.localAddress?.port)
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              failover: {endpoints: [127.0.0.1:1, 127.0.0.1:\(self.upstream.port)], connect_timeout: 5s}
              hanging: {endpoints: [127.0.0.1:\(silentPort)], connect_timeout: 30s}
              lying: {endpoints: [127.0.0.1:\(lyingPort)]}
            routes:
              - {name: failover, match: {path_prefix: /failover}, upstream: failover}
              - {name: hanging, match: {path_prefix: /hanging}, upstream: hanging}
              - {name: lying, match: {path_prefix: /lying}, upstream: lying}
            defaults: {limits: {handshake_timeout: 500ms}}
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        try? await self.silentUpstream?.close()
        try? await self.lyingUpstream?.close()
        self.upstream?.stop()
    }

    func testUnreachableEndpointPassesTheSessionToTheNext() async throws {
        // Round robin starts each session at another endpoint: over three, one starts at the dead one.
        for index in 0..<3 {
            let ws = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/failover").requireUpgraded()
            try await ws.sendText("session \(index)")
            let echoed = try await ws.receiveText()
            XCTAssertEqual(echoed, "session \(index)")
            await ws.close()
        }
        let stats = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
        XCTAssertGreaterThanOrEqual(
            stats.int("upstreams.failover.connect_failures.unreachable") ?? 0,
            1,
            "\(stats["upstreams"] ?? "")"
        )
    }

    func testUpstreamThatNeverAnswersGets504AtTheHandshakeTimeout() async throws {
        let started = ContinuousClock.now
        let result = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/hanging")
        guard case .refused(let status, _, let body) = result else { return XCTFail("expected a refusal") }
        XCTAssertEqual(status, 504, body)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "answered at handshake_timeout, not connect_timeout")
    }

    func testAnswerWithASubprotocolOrExtensionNeverOfferedGets502() async throws {
        for (path, offered) in [("/lying/subprotocol", [("Sec-WebSocket-Protocol", "chat")]), ("/lying/extension", [])] {
            let result = try await TestWebSocketClient.connect(port: self.gateway.port, path: path, headers: offered)
            guard case .refused(let status, _, let body) = result else { return XCTFail("\(path): expected a refusal") }
            XCTAssertEqual(status, 502, "\(path): \(body)")
            XCTAssertTrue(body.contains("not offered"), "\(path): \(body)")
        }
    }
}

/// A hostile upstream: reads an upgrade request and answers a 101 with the right accept value, plus
/// `Sec-WebSocket-Protocol: never-offered` on `/lying/subprotocol` or `Sec-WebSocket-Extensions:
/// permessage-deflate` on `/lying/extension`.
private final class LyingUpgradeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var received = ""

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received += String(buffer: self.unwrapInboundIn(data))
        guard let end = self.received.range(of: "\r\n\r\n") else { return }
        let head = self.received[..<end.lowerBound]
        let key =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") }
            .map { $0.dropFirst("sec-websocket-key:".count).trimmingCharacters(in: .whitespaces) } ?? ""
        let extra =
            head.contains("/lying/subprotocol")
            ? "Sec-WebSocket-Protocol: never-offered\r\n" : "Sec-WebSocket-Extensions: permessage-deflate\r\n"
        let answer =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(WebSocketAccept.value(forKey: key))\r\n\(extra)\r\n"
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(string: answer)), promise: nil)
    }
}
