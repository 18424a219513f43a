import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import XCTest

@testable import WSGate

/// The admin listener's access rules and its small endpoints.
final class AdminEndpointTests: XCTestCase {
    private var gateways: [GatewayHarness] = []
    private var upstreams: [PeerProcess] = []

    override func tearDown() async throws {
        for gateway in self.gateways { await gateway.stop() }
        for upstream in self.upstreams { upstream.stop() }
    }

    private func start(_ yaml: String, admin: String? = nil) async throws -> GatewayHarness {
        let gateway = try await GatewayHarness.start(yaml, admin: admin)
        self.gateways.append(gateway)
        return gateway
    }

    func testTokenIsRequiredOnEveryEndpointButThePage() async throws {
        let gateway = try await self.start(
            """
            upstreams: {echo: {protocol: echo}}
            routes: [{name: echo, upstream: echo}]
            """,
            admin: "token: s3cret"
        )
        for path in ["/stats", "/stats/connections", "/metrics", "/healthz", "/readyz"] {
            let missing = try await AdminHTTP.get(port: gateway.adminPort, path)
            XCTAssertEqual(missing.status, 401, path)
            XCTAssertEqual(missing.header("WWW-Authenticate"), "Bearer realm=\"wsgate\"", path)
            let wrong = try await AdminHTTP.get(port: gateway.adminPort, path, token: "s3creT")
            XCTAssertEqual(wrong.status, 401, path)
            let basic = try await AdminHTTP.get(port: gateway.adminPort, path, authorization: "Basic czNjcmV0")
            XCTAssertEqual(basic.status, 401, path)
            let right = try await AdminHTTP.get(port: gateway.adminPort, path, token: "s3cret")
            XCTAssertEqual(right.status, 200, path)
        }
        let page = try await AdminHTTP.get(port: gateway.adminPort, "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertFalse(page.body.contains("http://") || page.body.contains("https://"), "the page loads nothing from elsewhere")
    }

    func testReadinessNeedsAReachableUpstreamEndpoint() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        self.upstreams.append(upstream)
        let gateway = try await self.start(
            """
            upstreams: {app: {endpoints: [127.0.0.1:\(upstream.port)]}}
            routes: [{name: app, upstream: app}]
            """
        )
        let ready = try await AdminHTTP.get(port: gateway.adminPort, "/readyz")
        XCTAssertEqual(ready.status, 200, ready.body)
        upstream.stop()
        let notReady = try await AdminHTTP.get(port: gateway.adminPort, "/readyz")
        XCTAssertEqual(notReady.status, 503, notReady.body)
        XCTAssertTrue(notReady.body.contains("no upstream endpoint is reachable"), notReady.body)
        let alive = try await AdminHTTP.get(port: gateway.adminPort, "/healthz")
        XCTAssertEqual(alive.status, 200)
    }

    func testUnknownPathsMethodsAndQueries() async throws {
        let gateway = try await self.start(
            """
            upstreams: {echo: {protocol: echo}}
            routes: [{name: echo, upstream: echo}]
            """
        )
        let missing = try await AdminHTTP.get(port: gateway.adminPort, "/nope")
        XCTAssertEqual(missing.status, 404)
        let badSort = try await AdminHTTP.get(port: gateway.adminPort, "/stats/connections?sort=size")
        XCTAssertEqual(badSort.status, 400)
        XCTAssertTrue(badSort.body.contains("sort must be"), badSort.body)
        for query in ["?=", "?==", "?&=&"] {
            let unnamed = try await AdminHTTP.get(port: gateway.adminPort, "/stats/connections\(query)")
            XCTAssertEqual(unnamed.status, 400, query)
        }
        let alive = try await AdminHTTP.get(port: gateway.adminPort, "/healthz")
        XCTAssertEqual(alive.status, 200)
        let post = try await TestWebSocketClient.rawHTTPRequest(
            port: gateway.adminPort,
            request: "POST /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        XCTAssertTrue(post.hasPrefix("HTTP/1.1 405"), post)
    }

    private static let echo = """
        upstreams: {echo: {protocol: echo}}
        routes: [{name: echo, upstream: echo}]
        """

    /// Issue 11, finding 8: no Host check, so a DNS-rebinding page (its name resolving to
    /// 127.0.0.1) could read `/stats/connections`.
    func testHostMustNameTheAdminListener() async throws {
        let gateway = try await self.start(Self.echo)
        let port = gateway.adminPort
        for host in ["evil.example", "evil.example:\(port)", "127.0.0.1.nip.io:\(port)", "", "a\", b", "127.0.0.2"] {
            let refused = try await AdminHTTP.send(port: port, "GET", "/stats/connections", headers: [("Host", host)])
            XCTAssertEqual(refused.status, 421, "Host '\(host)': \(refused.body)")
        }
        for host in ["127.0.0.1:\(port)", "127.0.0.1", "localhost", "LOCALHOST:\(port)", "[::1]:\(port)"] {
            let served = try await AdminHTTP.send(port: port, "GET", "/stats/connections", headers: [("Host", host)])
            XCTAssertEqual(served.status, 200, "Host '\(host)': \(served.body)")
        }
    }

    /// Issue 11, finding 8: `POST /reload` accepted what any web page can send (a simple cross-site POST).
    func testReloadRefusesWhatABrowserCouldSendCrossSite() async throws {
        let gateway = try await self.start(Self.echo)
        let port = gateway.adminPort
        let simple = try await AdminHTTP.send(port: port, "POST", "/reload")
        XCTAssertEqual(simple.status, 403, simple.body)
        XCTAssertTrue(simple.body.contains("X-WSGate-Admin: 1"), simple.body)
        for origin in ["http://evil.example", "null", "https://127.0.0.1:\(port)", "http://127.0.0.1.evil.example"] {
            let foreign = try await AdminHTTP.send(
                port: port,
                "POST",
                "/reload",
                headers: [("X-WSGate-Admin", "1"), ("Origin", origin)]
            )
            XCTAssertEqual(foreign.status, 403, "Origin \(origin): \(foreign.body)")
        }
        XCTAssertEqual(gateway.gateway.configurationStatus.version, 1, "nothing refused was reloaded")
        let own = try await AdminHTTP.send(
            port: port,
            "POST",
            "/reload",
            headers: [("X-WSGate-Admin", "1"), ("Origin", "http://localhost:\(port)")]
        )
        XCTAssertEqual(own.status, 200, own.body)
        let tool = try await AdminHTTP.send(port: port, "POST", "/reload", headers: [("X-WSGate-Admin", "1")])
        XCTAssertEqual(tool.status, 200, tool.body)
        XCTAssertEqual(gateway.gateway.configurationStatus.version, 3)
    }

    func testWithATokenTheTokenAuthorizesReload() async throws {
        let gateway = try await self.start(Self.echo, admin: "token: s3cret")
        let port = gateway.adminPort
        let anonymous = try await AdminHTTP.send(port: port, "POST", "/reload", headers: [("X-WSGate-Admin", "1")])
        XCTAssertEqual(anonymous.status, 401, anonymous.body)
        let foreign = try await AdminHTTP.send(
            port: port,
            "POST",
            "/reload",
            headers: [("Authorization", "Bearer s3cret"), ("Origin", "http://evil.example")]
        )
        XCTAssertEqual(foreign.status, 403, foreign.body)
        let authorized = try await AdminHTTP.send(port: port, "POST", "/reload", headers: [("Authorization", "Bearer s3cret")])
        XCTAssertEqual(authorized.status, 200, authorized.body)
    }

    /// Issue 11, finding 8: admin connections were neither capped nor timed out.
    func testConnectionsAreCappedAndReleased() async throws {
        let gateway = try await self.start(Self.echo, admin: "max_connections: 2")
        let port = gateway.adminPort
        let first = try await Self.keptAliveConnection(port: port)
        let second = try await Self.keptAliveConnection(port: port)
        let third = try await TestWebSocketClient.rawHTTPRequest(
            port: port,
            request: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        XCTAssertEqual(third, "", "a third connection is closed at accept")
        try await first.close()
        // The server sees the close a moment later; each try is one connection, refused or answered at once.
        var answered = false
        for _ in 0..<200 where !answered {
            let again = try await TestWebSocketClient.rawHTTPRequest(
                port: port,
                request: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            answered = again.hasPrefix("HTTP/1.1 200")
        }
        XCTAssertTrue(answered, "a closed connection gives its place back")
        try await second.close()
    }

    func testIdleConnectionsAreClosed() async throws {
        let gateway = try await self.start(Self.echo, admin: "idle_timeout: 300ms")
        let started = ContinuousClock.now
        let silent = try await TestWebSocketClient.rawRequest(port: gateway.adminPort, bytes: [], timeout: .seconds(20))
        XCTAssertEqual(silent, [])
        let afterAnswer = try await TestWebSocketClient.rawHTTPRequest(
            port: gateway.adminPort,
            request: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            timeout: .seconds(20)
        )
        XCTAssertTrue(afterAnswer.hasPrefix("HTTP/1.1 200"), afterAnswer)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10), "closed by idle_timeout, not by the test's own timeout")
    }

    /// Optional TLS on the admin listener, in the listeners' `tls` shape.
    func testAdminListenerOverTLS() async throws {
        let gateway = try await self.start(Self.echo, admin: "tls: {self_signed: true}")
        let port = gateway.adminPort
        var insecure = TLSConfiguration.makeClientConfiguration()
        insecure.certificateVerification = .none
        let tls = try NIOSSLContext(configuration: insecure)
        let secure = try await AdminHTTP.send(port: port, "GET", "/healthz", tls: tls)
        XCTAssertEqual(secure.status, 200, secure.body)
        let reload = try await AdminHTTP.send(
            port: port,
            "POST",
            "/reload",
            headers: [("X-WSGate-Admin", "1"), ("Origin", "https://localhost:\(port)")],
            tls: tls
        )
        XCTAssertEqual(reload.status, 200, reload.body)
        let afterReload = try await AdminHTTP.send(port: port, "GET", "/healthz", tls: tls)
        XCTAssertEqual(afterReload.status, 200, afterReload.body)
        let plain = try await TestWebSocketClient.rawHTTPRequest(
            port: port,
            request: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        XCTAssertFalse(plain.hasPrefix("HTTP/"), plain)
    }

    /// A connection that has had one keep-alive answer, so the admin listener has accepted and counted it.
    private static func keptAliveConnection(port: Int) async throws -> any Channel {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let answered = eventLoop.makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FirstAnswerHandler(answered: answered))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        try await channel.writeAndFlush(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
        try await answered.futureResult.getWithTimeout(.seconds(10), "an admin answer")
        return channel
    }
}

/// Completes its promise at the first bytes received, or fails it if the connection closes first.
private final class FirstAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var answered: EventLoopPromise<Void>?

    init(answered: EventLoopPromise<Void>) {
        self.answered = answered
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.answered?.succeed()
        self.answered = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.answered?.fail(ChannelError.eof)
        self.answered = nil
        context.fireChannelInactive()
    }
}
