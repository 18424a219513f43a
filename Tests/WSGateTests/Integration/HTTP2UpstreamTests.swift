import NIOCore
import NIOPosix
import NIOWebSocket
import XCTest

@testable import WSGate

/// `websocket-h2` against the in-repo HTTP/2 upstream (`H2TestUpstream`): streams pooled on
/// connections, MAX_CONCURRENT_STREAMS, GOAWAY, resets, recovery, a server without extended CONNECT,
/// and head-of-line blocking. The gateway runs on a one-thread group so that connection counts are
/// exact (one pool per loop).
final class HTTP2UpstreamTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!
    private var upstream: H2TestUpstream?
    private var gateway: GatewayHarness?

    override func setUp() {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        await self.upstream?.stop()
        try await self.group.shutdownGracefully()
    }

    private func startGateway(
        port: Int,
        pool: String = "{}",
        tls: String = "{enabled: false}",
        extra: String = "",
        logs: CapturedLogs? = nil
    ) async throws -> GatewayHarness {
        let gateway = try await GatewayHarness.start(
            """
            upstreams:
              h2:
                protocol: websocket-h2
                endpoints: [127.0.0.1:\(port)]
                connect_timeout: 2s
                pool: \(pool)
                tls: \(tls)
            routes:
              - name: h2
                match: {path_prefix: /}
                upstream: h2
            \(extra)
            """,
            group: self.group,
            logs: logs
        )
        self.gateway = gateway
        return gateway
    }

    private func connect(_ path: String = "/echo", headers: [(String, String)] = []) async throws -> TestWebSocketClient {
        try await TestWebSocketClient.connect(port: try XCTUnwrap(self.gateway).port, path: path, headers: headers)
            .requireUpgraded()
    }

    private func assertEchoes(
        _ ws: TestWebSocketClient,
        _ text: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) async throws {
        try await ws.sendText(text)
        let echoed = try await ws.receiveText()
        XCTAssertEqual(echoed, text, file: file, line: line)
    }

    func testSessionsShareOneConnectionAndCloseCodesAreRelayed() async throws {
        let upstream = try await H2TestUpstream.start()
        self.upstream = upstream
        let gateway = try await self.startGateway(port: upstream.port)

        var clients: [TestWebSocketClient] = []
        for index in 0..<10 {
            let ws = try await self.connect()
            try await self.assertEchoes(ws, "hello \(index)")
            clients.append(ws)
        }
        let binary = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await clients[0].sendBinary(binary)
        let (opcode, data) = try await clients[0].receiveMessage()
        XCTAssertEqual(opcode, .binary)
        XCTAssertEqual(Array(data.readableBytesView), binary)

        // The upstream closes with 4001: the client hears 4001.
        try await clients[1].sendText("close:4001")
        let closed = try await clients[1].waitForClose()
        XCTAssertEqual(closed.code, 4001)
        // The client closes with 4002: the session ends cleanly, the stream with it.
        try await clients[2].sendClose(code: 4002)
        let answered = try await clients[2].waitForClose()
        XCTAssertEqual(answered.code, 4002)

        XCTAssertEqual(upstream.acceptedConnections, 1, "ten sessions, one upstream TCP connection")
        XCTAssertEqual(upstream.streams, 10)

        let stats = await gateway.gateway.upstreamPoolStats()["h2"]?.first
        XCTAssertEqual(stats?.endpoint, "127.0.0.1:\(upstream.port)")
        XCTAssertEqual(stats?.connectionsOpen, 1)
        XCTAssertEqual(stats?.counters.streamsOpened, 10)
        XCTAssertEqual(stats?.isHealthy, true)

        // The same figures on the admin endpoint: the pool in /stats, its one TCP connection in /metrics.
        let json = try await AdminHTTP.get(port: gateway.adminPort, "/stats").json()
        let pool = try XCTUnwrap(json.at("upstreams.h2.pool") as? [[String: Any]], "\(json)")
        XCTAssertEqual(pool.first?.int("connections_open"), 1)
        XCTAssertEqual(pool.first?.int("streams_opened"), 10)
        XCTAssertEqual(json.int("upstreams.h2.connects"), 10)
        let metrics = try await AdminHTTP.get(port: gateway.adminPort, "/metrics").body
        XCTAssertTrue(
            metrics.contains("wsgate_upstream_connections{upstream=\"h2\",endpoint=\"127.0.0.1:\(upstream.port)\"} 1.0"),
            metrics
        )
        for ws in clients { await ws.close() }
    }

    func testSubprotocolChosenUpstreamReachesTheClient() async throws {
        let upstream = try await H2TestUpstream.start()
        self.upstream = upstream
        _ = try await self.startGateway(port: upstream.port)
        let result = try await TestWebSocketClient.connect(
            port: try XCTUnwrap(self.gateway).port,
            path: "/echo",
            headers: [("Sec-WebSocket-Protocol", "one, two")]
        )
        XCTAssertEqual(result.header("Sec-WebSocket-Protocol"), "two")
        let ws = try result.requireUpgraded()
        try await self.assertEchoes(ws, "with subprotocol")
        await ws.close()
    }

    func testTLSWithALPNh2() async throws {
        let authority = try TestCertificateAuthority()
        let issued = try authority.issue("h2-upstream", dnsNames: ["upstream.test"], ipAddresses: [[127, 0, 0, 1]])
        let upstream = try await H2TestUpstream.start(options: .init(tls: (issued.certificatePath, issued.keyPath)))
        self.upstream = upstream
        _ = try await self.startGateway(port: upstream.port, tls: "{ca: \"\(authority.caPath)\"}")
        let ws = try await self.connect()
        try await self.assertEchoes(ws, "over h2 with TLS")
        XCTAssertEqual(upstream.negotiatedProtocols, ["h2"])
        await ws.close()
    }

    func testMaxConcurrentStreamsForcesNewConnections() async throws {
        let upstream = try await H2TestUpstream.start(options: .init(maxConcurrentStreams: 2))
        self.upstream = upstream
        _ = try await self.startGateway(port: upstream.port, pool: "{connections_per_loop: 1, max_connections_per_loop: 4}")
        var clients: [TestWebSocketClient] = []
        for index in 0..<5 {
            let ws = try await self.connect()
            try await self.assertEchoes(ws, "client \(index)")
            clients.append(ws)
        }
        XCTAssertEqual(upstream.acceptedConnections, 3, "2 + 2 + 1 streams")
        for (index, ws) in clients.enumerated() {
            try await self.assertEchoes(ws, "again \(index)")
            await ws.close()
        }
    }

    func testGoAwayDrainsTheConnectionAndOpensAReplacement() async throws {
        let upstream = try await H2TestUpstream.start()
        self.upstream = upstream
        _ = try await self.startGateway(port: upstream.port)
        let before = try await self.connect()
        try await self.assertEchoes(before, "before")
        XCTAssertEqual(upstream.acceptedConnections, 1)

        try await upstream.goAwayAll()
        // The replacement is dialled as soon as GOAWAY arrives (waited for, bounded).
        let gateway = try XCTUnwrap(self.gateway).gateway
        var stats = await gateway.upstreamPoolStats()["h2"]?.first
        for _ in 0..<200 where stats?.counters.goAways != 1 || stats?.connectionsOpen != 2 {
            try await Task.sleep(for: .milliseconds(20))
            stats = await gateway.upstreamPoolStats()["h2"]?.first
        }
        XCTAssertEqual(stats?.counters.goAways, 1)
        XCTAssertEqual(stats?.connectionsOpen, 2, "the draining connection and its replacement")
        XCTAssertEqual(upstream.acceptedConnections, 2)
        // A new session lands on the replacement, and the one on the draining connection carries on.
        let after = try await self.connect()
        try await self.assertEchoes(after, "after")
        try await self.assertEchoes(before, "still flowing")
        await before.close()
        await after.close()
    }

    func testResetStreamClosesOnlyItsClient() async throws {
        let upstream = try await H2TestUpstream.start()
        self.upstream = upstream
        _ = try await self.startGateway(port: upstream.port)
        let victim = try await self.connect()
        let neighbours = [try await self.connect(), try await self.connect()]
        try await victim.sendText("reset")
        let closed = try await victim.waitForClose()
        XCTAssertEqual(closed.code, 1014, "the upstream stream was reset: \(closed.reason)")
        for (index, ws) in neighbours.enumerated() {
            try await self.assertEchoes(ws, "unharmed \(index)")
            await ws.close()
        }
        XCTAssertEqual(upstream.acceptedConnections, 1)
    }

    func testLostConnectionClosesItsSessionsWith1014AndIsReplaced() async throws {
        let upstream = try await H2TestUpstream.start()
        self.upstream = upstream
        _ = try await self.startGateway(port: upstream.port)
        let ws = try await self.connect()
        try await self.assertEchoes(ws, "before the loss")
        await upstream.stop()
        let closed = try await ws.waitForClose()
        XCTAssertEqual(closed.code, 1014)
        let stats = try await XCTUnwrap(self.gateway).gateway.upstreamPoolStats()["h2"]?.first
        XCTAssertEqual(stats?.counters.sessionsLost, 1)
    }

    func testEndpointDownAtStartRecoversWhenItComesUp() async throws {
        let port = try await H2TestUpstream.freePort()
        _ = try await self.startGateway(port: port)
        let refused = try await TestWebSocketClient.connect(port: try XCTUnwrap(self.gateway).port, path: "/echo")
        XCTAssertEqual(refused.status, 502)

        let upstream = try await H2TestUpstream.start(port: port)
        self.upstream = upstream
        // The pool dials again after its back-off (100 ms, doubling); sessions meanwhile get 502 at once.
        var upgraded: TestWebSocketClient?
        for _ in 0..<200 where upgraded == nil {
            let attempt = try await TestWebSocketClient.connect(port: try XCTUnwrap(self.gateway).port, path: "/echo")
            if case .upgraded(let ws, _) = attempt {
                upgraded = ws
            } else {
                XCTAssertEqual(attempt.status, 502)
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let ws = try XCTUnwrap(upgraded, "the endpoint never recovered")
        try await self.assertEchoes(ws, "recovered")
        await ws.close()
    }

    func testServerWithoutExtendedConnectIsRefusedWithOneClearLogLine() async throws {
        let upstream = try await H2TestUpstream.start(options: .init(enableConnectProtocol: false))
        self.upstream = upstream
        let logs = CapturedLogs()
        _ = try await self.startGateway(port: upstream.port, logs: logs)
        for _ in 0..<3 {
            let result = try await TestWebSocketClient.connect(port: try XCTUnwrap(self.gateway).port, path: "/echo")
            XCTAssertEqual(result.status, 502)
        }
        let lines = logs.all.filter { $0.contains("SETTINGS_ENABLE_CONNECT_PROTOCOL") }
        XCTAssertEqual(lines.count, 1, "\(logs.all)")
        XCTAssertTrue(lines.first?.hasPrefix("error:") == true)
        XCTAssertEqual(upstream.streams, 0, "no stream is ever opened")
    }

    func testRejectedFirstStreamOfAConnectionIsRetriedOnTheNext() async throws {
        let upstream = try await H2TestUpstream.start(options: .init(rejectFirstStream: true))
        self.upstream = upstream
        _ = try await self.startGateway(port: upstream.port)
        let ws = try await self.connect()
        try await self.assertEchoes(ws, "on stream 3")
        XCTAssertEqual(upstream.streams, 2)
        let stats = try await XCTUnwrap(self.gateway).gateway.upstreamPoolStats()["h2"]?.first
        XCTAssertEqual(stats?.counters.streamsFailed, 1)
        XCTAssertEqual(stats?.counters.streamsOpened, 1)
        await ws.close()
    }

    func testRefusedStreamIsRetriedOnce() async throws {
        let upstream = try await H2TestUpstream.start(options: .init(refuseStreams: 1))
        self.upstream = upstream
        _ = try await self.startGateway(port: upstream.port)
        let ws = try await self.connect()
        try await self.assertEchoes(ws, "after one refusal")
        let stats = try await XCTUnwrap(self.gateway).gateway.upstreamPoolStats()["h2"]?.first
        XCTAssertEqual(stats?.counters.streamsRefused, 1)
        await ws.close()
    }

    func testStreamRefusedAgainAfterTheRetryAnswers503() async throws {
        let upstream = try await H2TestUpstream.start(options: .init(refuseStreams: 2))
        self.upstream = upstream
        _ = try await self.startGateway(port: upstream.port)
        let result = try await TestWebSocketClient.connect(port: try XCTUnwrap(self.gateway).port, path: "/echo")
        XCTAssertEqual(result.status, 503)
        // The connection is fine: the next session gets through.
        let ws = try await self.connect()
        try await self.assertEchoes(ws, "next one")
        await ws.close()
    }

    func testNon2xxAnswerIsPassedToTheClient() async throws {
        let upstream = try await H2TestUpstream.start()
        self.upstream = upstream
        _ = try await self.startGateway(port: upstream.port)
        let result = try await TestWebSocketClient.connect(port: try XCTUnwrap(self.gateway).port, path: "/status/403")
        XCTAssertEqual(result.status, 403)
    }

    /// Backpressure limits work the same in the multiplexed mode: a client that stops reading while
    /// the upstream floods it is paused, then closed after `max_stall` (`on_limit: close`, counted as a
    /// `backpressure` limit hit), while a neighbour on the same upstream connection keeps exchanging.
    func testStalledClientIsClosedPerOnLimitWhileItsNeighbourFlows() async throws {
        let upstream = try await H2TestUpstream.start()
        self.upstream = upstream
        let gateway = try await self.startGateway(
            port: upstream.port,
            extra: "defaults: {backpressure: {high_water: 64KiB, low_water: 16KiB, max_stall: 300ms, on_limit: close}}"
        )
        let stalled = try await self.connect()
        try await stalled.channel.setOption(.autoRead, value: false).get()
        try await stalled.channel.setOption(.socketOption(.so_rcvbuf), value: 64 * 1024).get()
        try await stalled.sendText("flood:1024")
        let neighbour = try await self.connect()
        try await self.assertEchoes(neighbour, "while the other one stalls")

        // Bounded wait (count and time) for the gateway to end the stalled session.
        var hits = 0
        let deadline = ContinuousClock.now + .seconds(30)
        for _ in 0..<3000 where hits == 0 && ContinuousClock.now < deadline {
            let stats = try await AdminHTTP.get(port: gateway.adminPort, "/stats").json()
            hits = stats.int("routes.h2.limit_hits.backpressure") ?? 0
        }
        XCTAssertEqual(hits, 1)
        try await self.assertEchoes(neighbour, "after the other one was closed")
        XCTAssertEqual(upstream.acceptedConnections, 1, "both sessions were streams of one upstream connection")

        // The stalled client, reading again, finds its connection closed by the gateway.
        try await stalled.channel.setOption(.autoRead, value: true).get()
        stalled.channel.read()
        try await stalled.waitForTCPClose(timeout: .seconds(30))
        await neighbour.close()
    }

    /// One client stops reading while the upstream floods it; twenty others on the same upstream
    /// connection finish their exchanges, and the stalled stream is held by HTTP/2 flow control at
    /// the upstream (its window used up), not buffered without bound in the gateway.
    func testStalledClientDoesNotBlockItsConnectionNeighbours() async throws {
        let upstream = try await H2TestUpstream.start()
        self.upstream = upstream
        _ = try await self.startGateway(
            port: upstream.port,
            pool: "{initial_stream_window: 64KiB}",
            extra: "defaults: {backpressure: {max_stall: 5m}}"
        )
        let stalled = try await self.connect()
        try await stalled.channel.setOption(.autoRead, value: false).get()
        // A fixed receive buffer: the kernel would otherwise grow it to tens of MiB on loopback.
        try await stalled.channel.setOption(.socketOption(.so_rcvbuf), value: 64 * 1024).get()
        let floodMessages = 1024  // 16 MiB
        try await stalled.sendText("flood:\(floodMessages)")
        // Wait until the upstream can send no more on that stream (bounded).
        var last = -1
        for _ in 0..<300 where upstream.maxStreamBytesSent != last || last <= 0 {
            last = upstream.maxStreamBytesSent
            try await Task.sleep(for: .milliseconds(100))
        }
        let held = upstream.maxStreamBytesSent
        // What left the upstream sits in the window (64 KiB), the client leg's high water (1 MiB), and
        // the two sockets' kernel buffers; the remaining megabytes wait at the upstream.
        XCTAssertLessThan(held, 8 * 1024 * 1024, "flow control holds the stalled stream at the upstream")

        let port = try XCTUnwrap(self.gateway).port
        let active = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in 0..<20 {
                group.addTask {
                    let ws = try await TestWebSocketClient.connect(port: port, path: "/echo").requireUpgraded()
                    let payload = [UInt8](repeating: UInt8(client), count: 4096)
                    for _ in 0..<50 {
                        try await ws.sendBinary(payload)
                        let (_, echoed) = try await ws.receiveMessage()
                        XCTAssertEqual(Array(echoed.readableBytesView), payload)
                    }
                    await ws.close()
                    return 50
                }
            }
            return try await group.reduce(0, +)
        }
        XCTAssertEqual(active, 1000)
        XCTAssertEqual(upstream.acceptedConnections, 1, "all 21 sessions on one upstream connection")
        XCTAssertLessThan(upstream.maxStreamBytesSent, 8 * 1024 * 1024, "the stalled one is still stalled")

        // Once it reads again, everything arrives, intact.
        try await stalled.channel.setOption(.autoRead, value: true).get()
        stalled.channel.read()
        var received = 0
        while received < floodMessages {
            let (opcode, data) = try await stalled.receiveMessage(timeout: .seconds(30))
            XCTAssertEqual(opcode, .binary)
            XCTAssertEqual(data.readableBytes, 16 * 1024)
            received += 1
        }
        await stalled.close()
    }
}
