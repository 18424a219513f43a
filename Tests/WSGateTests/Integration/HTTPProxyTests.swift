import Foundation
import NIOCore
import NIOPosix
import XCTest

@testable import WSGate

/// Plain HTTP through the real gateway to an `aiohttp` app (Tests/Peers/http_app.py), with clients
/// we did not write: curl and Python `httpx` (Tests/Peers/http_client.py). One route fronts the
/// whole app: HTML, JSON, streamed bodies both ways, Server-Sent Events and the app's WebSocket.
final class HTTPProxyTests: XCTestCase {
    private var app: PeerProcess!
    private var gateway: GatewayHarness!
    private var accessLog: URL!
    /// A gateway of one test's own.
    private var second: GatewayHarness?

    override func setUp() async throws {
        self.app = try await PeerProcess.start(
            name: "http_app.py",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [PeerProcess.python, "-u", PeerProcess.peerScript("http_app.py").path, "--port", "0"],
            currentDirectory: PeerProcess.repositoryRoot
        )
        self.accessLog = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-http-\(UUID().uuidString).log")
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app: {endpoints: [127.0.0.1:\(self.app.port)]}
              dead: {protocol: http, endpoints: [127.0.0.1:1], connect_timeout: 2s}
            routes:
              - {name: dead, match: {path_prefix: /dead}, upstream: dead}
              - name: strict
                match: {path_prefix: /strict/}
                upstream: app
                rewrite_prefix: /
                limits: {max_request_body: 1KiB, response_timeout: 1s}
              - name: stalling
                match: {path_prefix: /stalling/}
                upstream: app
                rewrite_prefix: /
                limits: {idle_timeout: 1s}
              - {name: app, upstream: app}
            defaults:
              limits: {handshake_timeout: 2s}
            log:
              access: {format: json, destination: \(self.accessLog.path)}
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        await self.second?.stop()
        self.app?.stop()
        try? FileManager.default.removeItem(at: self.accessLog)
    }

    private var base: String { "http://127.0.0.1:\(self.gateway.port)" }

    private func curl(_ arguments: [String]) async throws -> String {
        let result = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: "/usr/bin/curl"),
            arguments: ["-sS"] + arguments,
            timeout: .seconds(60)
        )
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout
    }

    private func httpx(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> [String: Any] {
        let result = try await runPythonPeer("http_client.py", args: arguments, timeout: timeout)
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        return result
    }

    /// What the app counted (asked directly, not through the gateway).
    private func appCounters() async throws -> [String: Any] {
        let result = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: "/usr/bin/curl"),
            arguments: ["-sS", "http://127.0.0.1:\(self.app.port)/counters"],
            timeout: .seconds(30)
        )
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    private func stats() async throws -> [String: Any] {
        try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
    }

    func testHTMLAndJSONWithTheForwardedFieldsOfTheOnePolicy() async throws {
        let page = try await self.curl(["-i", "\(self.base)/"])
        XCTAssertTrue(page.hasPrefix("HTTP/1.1 200 OK\r\n"), page)
        XCTAssertTrue(page.contains("Content-Type: text/html"), page)
        XCTAssertTrue(page.hasSuffix("<h1>hello from the app</h1>"), page)

        let got = try await self.httpx(["get", "\(self.base)/json?x=1"])
        let response = try XCTUnwrap((got["responses"] as? [[String: Any]])?.first)
        XCTAssertEqual(response["status"] as? Int, 200)
        let body = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(try XCTUnwrap(response["body"] as? String).utf8)) as? [String: Any]
        )
        XCTAssertEqual(body["path"] as? String, "/json?x=1")
        let headers = Dictionary(
            (body["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) },
            uniquingKeysWith: { $1 }
        )
        XCTAssertEqual(headers["x-forwarded-for"], "127.0.0.1")
        XCTAssertEqual(headers["x-forwarded-proto"], "http")
        XCTAssertEqual(headers["host"], "127.0.0.1:\(self.gateway.port)")
        XCTAssertEqual(headers["forwarded"], "for=127.0.0.1;host=\"127.0.0.1:\(self.gateway.port)\";proto=http")
        XCTAssertNil(headers["connection"], "hop-by-hop fields are the gateway's own")

        let rewritten = try await self.curl(["\(self.base)/strict/json"])
        XCTAssertTrue(rewritten.contains("\"path\": \"/json\""), "rewrite_prefix applies: \(rewritten)")

        // One access log line per request, in the sessions' field style.
        let lines = try await self.waitForLogLines(3)
        let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(first["event"] as? String, "request")
        XCTAssertEqual(first["method"] as? String, "GET")
        XCTAssertEqual(first["path"] as? String, "/")
        XCTAssertEqual(first["status"] as? Int, 200)
        XCTAssertEqual(first["route"] as? String, "app")
        XCTAssertEqual(first["upstream"] as? String, "127.0.0.1:\(self.app.port)")
        XCTAssertNotNil(first["upstream_ms"] as? Double)
    }

    func testKeepAliveRequestsReuseOnePooledUpstreamConnection() async throws {
        let before = try await self.appCounters()
        let urls = (0..<6).map { "\(self.base)/json?n=\($0)" }
        let got = try await self.httpx(["get"] + urls)
        XCTAssertEqual(
            (got["responses"] as? [[String: Any]])?.compactMap { $0["status"] as? Int },
            Array(repeating: 200, count: 6)
        )
        let after = try await self.appCounters()
        XCTAssertEqual((after["requests"] as? Int ?? 0) - (before["requests"] as? Int ?? 0), 6)
        XCTAssertEqual(
            (after["connections"] as? Int ?? 0) - (before["connections"] as? Int ?? 0),
            1,
            "six requests on one client connection take one upstream connection"
        )
        let stats = try await self.stats()
        XCTAssertEqual(stats.int("routes.app.http.requests.2xx"), 6)
        XCTAssertEqual(stats.int("routes.app.http.upstream_latency_seconds.count"), 6)
    }

    func testAPooledConnectionTheUpstreamDroppedIsRetriedOnAFreshOne() async throws {
        // /drop answers a connection's first request and drops the connection on its second: the
        // second request finds its pooled connection closed before any answer and goes again.
        let got = try await self.httpx(["get", "\(self.base)/drop", "\(self.base)/drop"])
        XCTAssertEqual((got["responses"] as? [[String: Any]])?.compactMap { $0["status"] as? Int }, [200, 200])
        let stats = try await self.stats()
        XCTAssertEqual(stats.int("routes.app.http.stale_retries"), 1)
        XCTAssertEqual(stats.int("routes.app.http.requests.2xx"), 2)
    }

    func testChunkedUploadWithExpectContinueAndBodilessAnswers() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-upload-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let body = Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try body.write(to: file)
        let answer = try await self.curl([
            "-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue", "--data-binary", "@\(file.path)",
            "\(self.base)/upload",
        ])
        XCTAssertTrue(answer.contains("\"bytes\": 3000000"), answer)

        let head = try await self.curl(["-I", "\(self.base)/download?size=5000&length=1"])
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK\r\n"), head)
        XCTAssertTrue(head.contains("Content-Length: 5000"), head)
        let noContent = try await self.curl(["-i", "\(self.base)/status/204", "\(self.base)/status/304", "\(self.base)/"])
        XCTAssertTrue(noContent.hasPrefix("HTTP/1.1 204 No Content\r\n"), noContent)
        XCTAssertTrue(noContent.contains("HTTP/1.1 304 Not Modified\r\n"), noContent)
        XCTAssertTrue(noContent.hasSuffix("<h1>hello from the app</h1>"), "the connection went on after both: \(noContent)")
    }

    /// Four requests in one segment, a HEAD among them, through the one pooled upstream connection
    /// of the client's loop: a HEAD answer framed as if it had a body would garble those after it.
    func testPipelinedRequestsAreAnsweredInOrder() async throws {
        let answer = try await TestWebSocketClient.rawHTTPRequest(
            port: self.gateway.port,
            request: "GET /json?n=1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /download?size=5000&length=1 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /status/204 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /json?n=3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
        // A JSON body has no line end: the next status line follows it directly.
        let statuses = answer.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.components(separatedBy: "\r\n")[0] }
        XCTAssertEqual(statuses, ["200 OK", "200 OK", "204 No Content", "200 OK"], answer)
        XCTAssertTrue(answer.contains("Content-Length: 5000\r\n"), "the HEAD answer says what a GET would carry")
        let first = try XCTUnwrap(answer.range(of: "/json?n=1"))
        let third = try XCTUnwrap(answer.range(of: "/json?n=3"))
        XCTAssertLessThan(first.lowerBound, third.lowerBound)
    }

    func testServerSentEventsArriveOneByOne() async throws {
        let got = try await self.httpx(["sse", "\(self.base)/sse?n=5&interval=0.3"])
        XCTAssertEqual(got["events"] as? Int, 5)
        let lags = try XCTUnwrap(got["lags"] as? [Double])
        XCTAssertEqual(lags.count, 5)
        for lag in lags {
            XCTAssertLessThan(lag, 0.2, "each event within 200 ms of the app sending it (sent 300 ms apart): \(lags)")
        }
    }

    func testAWebSocketOnTheSameRoute() async throws {
        let echoed = try await runPythonClient(args: ["echo", "ws://127.0.0.1:\(self.gateway.port)/ws", "--sizes", "0,1,70000"])
        XCTAssertEqual(echoed["ok"] as? Bool, true, "\(echoed)")
    }

    func testTheGatewaysOwnAnswers() async throws {
        func raw(_ request: String) async throws -> String {
            try await TestWebSocketClient.rawHTTPRequest(port: self.gateway.port, request: request, timeout: .seconds(20))
        }
        let smuggled = try await raw(
            "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        )
        XCTAssertTrue(smuggled.hasPrefix("HTTP/1.1 400 "), smuggled)
        let twoLengths = try await raw("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello")
        XCTAssertTrue(twoLengths.hasPrefix("HTTP/1.1 400 "), twoLengths)

        let tooLarge = try await raw("POST /strict/upload HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n")
        XCTAssertTrue(tooLarge.hasPrefix("HTTP/1.1 413 "), "refused before the body is sent: \(tooLarge)")
        let chunkedTooLarge = try await raw(
            "POST /strict/upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n"
                + String(repeating: "x", count: 2048)
                + "\r\n0\r\n\r\n"
        )
        XCTAssertTrue(chunkedTooLarge.hasPrefix("HTTP/1.1 413 "), chunkedTooLarge)

        let hugeHeader = "X-Big: " + String(repeating: "a", count: 20000) + "\r\n"
        let first = try await raw("GET / HTTP/1.1\r\nHost: a\r\n\(hugeHeader)\r\n")
        XCTAssertTrue(first.hasPrefix("HTTP/1.1 431 "), first)
        let second = try await raw("GET /json HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\(hugeHeader)\r\n")
        XCTAssertTrue(second.hasPrefix("HTTP/1.1 200 OK"), second)
        XCTAssertTrue(second.contains("HTTP/1.1 431 "), "the limit holds for every request of a connection: \(second)")

        let stalled = try await raw("GET / HTTP/1.1\r\nHost: a\r\n")
        XCTAssertTrue(stalled.hasPrefix("HTTP/1.1 408 "), stalled)
        let refused = try await raw("GET /dead HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertTrue(refused.hasPrefix("HTTP/1.1 502 "), refused)
        let slow = try await raw("GET /strict/slow?delay=3 HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertTrue(slow.hasPrefix("HTTP/1.1 504 "), slow)

        let stats = try await self.stats()
        XCTAssertEqual(stats.int("routes.strict.http.requests.4xx"), 2)
        XCTAssertEqual(stats.int("routes.strict.http.requests.5xx"), 1)
        XCTAssertEqual(stats.int("routes.dead.http.requests.5xx"), 1)
    }

    func testStalledPeersAreCutAfterIdleTimeout() async throws {
        // A client that stops sending its body: 408 once idle_timeout (1 s) passes without a byte.
        let body = try await self.httpx(["stall-body", "127.0.0.1", String(self.gateway.port), "/stalling/upload"])
        XCTAssertEqual(body["answer"] as? String, "HTTP/1.1 408 Request Timeout")
        // A client that never reads a 64 MiB answer: the gateway reads the app only as far as the
        // client takes, then closes both connections once nothing moved for idle_timeout.
        let size = 64 << 20
        let read = try await self.httpx([
            "stall-read", "127.0.0.1", String(self.gateway.port), "/stalling/download?size=\(size)", "3",
        ])
        XCTAssertEqual(read["closed"] as? Bool, true, "\(read)")
        XCTAssertLessThan(read["bytes"] as? Int ?? size, size / 4, "what the stalled client got is what the buffers held")
        let stats = try await self.stats()
        XCTAssertEqual(stats.int("routes.stalling.http.requests.4xx"), 1)
        XCTAssertEqual(stats.int("routes.stalling.http.requests.2xx"), 1, "the answer had begun: counted with its status")
        let endpoints = try XCTUnwrap(stats.at("upstreams.app.endpoints") as? [[String: Any]])
        XCTAssertEqual(endpoints.first?.int("http_pool.idle"), 0, "the cut connection did not go back to the pool")
    }

    func testPeersThatLieOrLeaveMidMessage() async throws {
        // An upstream whose answer has two different Content-Length values: never relayed, 502.
        let lie = try await TestWebSocketClient.rawHTTPRequest(
            port: self.gateway.port,
            request: "GET /lie HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        XCTAssertTrue(lie.hasPrefix("HTTP/1.1 502 "), lie)
        XCTAssertFalse(lie.contains("hello"), lie)
        // A client that leaves in the middle of a 10 MB upload: the exchange ends (status 0), its
        // upstream connection is closed rather than pooled half-used, and the next request is served.
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: self.gateway.port).get()
        var upload = ByteBuffer(string: "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n")
        upload.writeRepeatingByte(7, count: 1 << 20)
        try await channel.writeAndFlush(upload)
        try await channel.close()
        var stats: [String: Any] = [:]
        for _ in 0..<250 {
            stats = try await self.stats()
            if stats.int("routes.app.http.requests.0xx") == 1 { break }
            try await Task.sleep(for: .milliseconds(40))
        }
        XCTAssertEqual(stats.int("routes.app.http.requests.0xx"), 1, "\(stats.at("routes.app.http") ?? "")")
        let got = try await self.httpx(["get", "\(self.base)/json"])
        XCTAssertEqual((got["responses"] as? [[String: Any]])?.first?["status"] as? Int, 200)
    }

    /// An upstream answer under a transfer coding besides a lone `chunked` is 502, never relayed: the
    /// client encoder would send its body unframed on the keep-alive connection, and an app's body
    /// holding `0\r\n\r\nHTTP/1.1 200 OK…` would reach the client as a second response.
    func testAnUpstreamTransferCodingBesidesALoneChunkedIs502OnTheWire() async throws {
        for coding in ["gzip,%20chunked", "gzip"] {
            let answer = try await TestWebSocketClient.rawHTTPRequest(
                port: self.gateway.port,
                request: "GET /coded?te=\(coding) HTTP/1.1\r\nHost: a\r\n\r\n",
                timeout: .seconds(20)
            )
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 502 "), answer)
            XCTAssertEqual(answer.components(separatedBy: "HTTP/1.1 ").count - 1, 1, "one response: \(answer)")
            XCTAssertFalse(answer.contains("smuggled"), answer)
        }
    }

    /// `response_timeout` (1 s on /strict/) runs from the request's end: an upload slower than it is
    /// answered by the app, not cut with 504.
    func testAnUploadSlowerThanTheResponseTimeoutIsAnswered() async throws {
        let slow = try await self.httpx(["slow-upload", "127.0.0.1", String(self.gateway.port), "/strict/upload"])
        XCTAssertEqual(slow["answer"] as? String, "HTTP/1.1 200 OK")
    }

    /// `max_headers` holds for every request of a keep-alive connection, not only its first.
    func testTooManyHeaderFieldsOnALaterRequestAre431() async throws {
        let fields = (0..<300).map { "X-F\($0): v\r\n" }.joined()
        let answer = try await TestWebSocketClient.rawHTTPRequest(
            port: self.gateway.port,
            request: "GET /json?n=1 HTTP/1.1\r\nHost: a\r\n\r\nGET /json?n=2 HTTP/1.1\r\nHost: a\r\n\(fields)\r\n"
        )
        let statuses = answer.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.components(separatedBy: "\r\n")[0] }
        XCTAssertEqual(statuses, ["200 OK", "431 Request Header Fields Too Large"], answer)
    }

    /// A client that resets its keep-alive connection between requests (wrk at the end of a run,
    /// browsers) is gone: no answer is written to it (a response to no request would trap NIO's
    /// server pipeline handler in this debug build, taking the in-process gateway down).
    func testAClientThatResetsItsKeepAliveConnectionIsNotAnswered() async throws {
        for _ in 0..<3 {
            let reset = try await self.httpx(["reset", "127.0.0.1", String(self.gateway.port), "/json"])
            XCTAssertEqual(reset["answer"] as? String, "HTTP/1.1 200 OK")
        }
        let got = try await self.httpx(["get", "\(self.base)/json"])
        XCTAssertEqual((got["responses"] as? [[String: Any]])?.first?["status"] as? Int, 200)
    }

    func testOverTheMemoryBudgetTheExchangeHoldingMostIsClosed() async throws {
        let tight = try await GatewayHarness.start(
            """
            upstreams: {app: {endpoints: [127.0.0.1:\(self.app.port)]}}
            routes: [{name: app, upstream: app}]
            limits: {max_memory: 48KiB}
            """
        )
        self.second = tight
        // A client that never reads a 64 MiB answer: what waits toward it (the socket's buffer up to
        // its high water mark, and a small receive buffer keeps the kernel from taking more) is
        // counted in the budget beside the sessions' queued bytes.
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .connect(host: "127.0.0.1", port: tight.port).get()
        defer { channel.close(promise: nil) }
        channel.writeAndFlush(ByteBuffer(string: "GET /download?size=\(64 << 20) HTTP/1.1\r\nHost: a\r\n\r\n"), promise: nil)
        var stats: [String: Any] = [:]
        for _ in 0..<250 {
            stats = try await AdminHTTP.get(port: tight.adminPort, "/stats").json()
            if stats.int("routes.app.http.requests.2xx") == 1 { break }
            try await Task.sleep(for: .milliseconds(40))
        }
        XCTAssertEqual(stats.int("routes.app.limit_hits.max_memory"), 1, "\(stats["memory"] ?? "")")
        XCTAssertEqual(stats.int("routes.app.http.requests.2xx"), 1, "the exchange ended (closed with its answer begun)")
    }

    /// A graceful shutdown lets the exchange in flight finish (its answer says `Connection: close`,
    /// then the connection closes), closes a keep-alive connection between requests at once, and is
    /// over as soon as both are gone, long before `shutdown.grace`.
    func testDrainLetsTheExchangeInFlightFinishAndClosesIdleConnections() async throws {
        let gateway = try await GatewayHarness.start(
            """
            upstreams: {app: {endpoints: [127.0.0.1:\(self.app.port)]}}
            routes: [{name: app, upstream: app}]
            defaults: {limits: {handshake_timeout: 60s}}
            shutdown: {grace: 30s, timeout: 1s}
            """
        )
        self.second = gateway
        let port = gateway.port
        let idle = Task {
            try await TestWebSocketClient.rawHTTPRequest(
                port: port,
                request: "GET /json HTTP/1.1\r\nHost: a\r\n\r\n",
                timeout: .seconds(60)
            )
        }
        var stats: [String: Any] = [:]
        for _ in 0..<250 {
            stats = try await AdminHTTP.get(port: gateway.adminPort, "/stats").json()
            if stats.int("routes.app.http.requests.2xx") == 1 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(stats.int("routes.app.http.requests.2xx"), 1, "the idle connection's request was answered")
        let before = try await self.appCounters()["requests"] as? Int ?? 0
        let inFlight = Task {
            try await TestWebSocketClient.rawHTTPRequest(
                port: port,
                request: "GET /slow?delay=1 HTTP/1.1\r\nHost: a\r\n\r\n",
                timeout: .seconds(60)
            )
        }
        var reached = false
        for _ in 0..<250 {
            if try await self.appCounters()["requests"] as? Int ?? 0 > before {
                reached = true
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertTrue(reached, "the slow request reached the app before the drain")
        let started = ContinuousClock.now
        await gateway.gateway.drain()
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(20), "over once both connections were gone, not at grace")

        let idleAnswer = try await idle.value
        XCTAssertEqual(idleAnswer.components(separatedBy: "HTTP/1.1 ").count - 1, 1, idleAnswer)
        XCTAssertTrue(idleAnswer.hasPrefix("HTTP/1.1 200 OK"), idleAnswer)
        let answer = try await inFlight.value
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK"), "the exchange in flight finished: \(answer)")
        XCTAssertTrue(answer.contains("Connection: close\r\n"), answer)
        XCTAssertTrue(answer.hasSuffix("late\n"), answer)
    }

    /// A drain that finds a connection between exchanges whose last answer may still be in the
    /// gateway's write buffer (a slow reader of a large body) closes it only once the answer is out:
    /// the client gets the whole body (a plain close cut its tail, logged 2xx). On Linux loopback the
    /// autotuned send buffer usually takes the tail before the drain, so this guards the path more
    /// than it reproduces the cut.
    func testADrainLetsASlowReaderHaveAllOfAFinishedAnswer() async throws {
        let gateway = try await GatewayHarness.start(
            """
            upstreams: {app: {endpoints: [127.0.0.1:\(self.app.port)]}}
            routes: [{name: app, upstream: app}]
            defaults: {limits: {handshake_timeout: 60s}}
            shutdown: {grace: 30s, timeout: 1s}
            """
        )
        self.second = gateway
        let size = 8 << 20
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let reader = MeteredReader(closed: loop.makePromise(of: Int.self))
        let channel = try await MeteredReader.connect(reader, port: gateway.port, on: loop)
        defer { channel.close(promise: nil) }
        try await channel.writeAndFlush(ByteBuffer(string: "GET /download?size=\(size)&length=1 HTTP/1.1\r\nHost: a\r\n\r\n"))
        let received = try await Self.readUntilTheExchangeEnded(reader, size: size, gateway: gateway, on: loop)
        XCTAssertLessThan(received, size, "the answer is not all read yet")

        let inProcess = gateway.gateway
        let draining = Task { await inProcess.drain() }
        // The drain has reached the HTTP connections once the listener refuses new ones.
        var refused = false
        for _ in 0..<500 {
            guard let probe = try? await ClientBootstrap(group: loop).connect(host: "127.0.0.1", port: gateway.port).get()
            else {
                refused = true
                break
            }
            try? await probe.close()
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTAssertTrue(refused, "the drain closed the listener")
        try await channel.setOption(.autoRead, value: true).get()
        channel.read()
        let total = try await reader.closed.futureResult.get()
        await draining.value
        let head = try await loop.submit { reader.head }.get()
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK\r\n"), head)
        let headLength = try XCTUnwrap(head.range(of: "\r\n\r\n")).upperBound.utf16Offset(in: head)
        XCTAssertEqual(total - headLength, size, "the whole body arrived before the close")
    }

    /// An answer that ends its connection (`Connection: close`) to a reader that stopped with the
    /// answer's tail still in the gateway's write buffer: the connection is cut `handshake_timeout`
    /// after the exchange ended (as nginx's `send_timeout`), not held for ever with the tail queued.
    /// On Linux loopback the sender's autotuned send buffer often takes the whole tail (then the
    /// connection closes at once and the reader gets everything); on this machine the gateway still
    /// held a tail in about 1 run of 4, and then the connection was held until the reader came back
    /// before the fix. So this guards the path more than it reproduces the hold on every run.
    func testAClosingAnswerToAReaderThatStoppedIsCutAfterHandshakeTimeout() async throws {
        let gateway = try await GatewayHarness.start(
            """
            upstreams: {app: {endpoints: [127.0.0.1:\(self.app.port)]}}
            routes: [{name: app, upstream: app}]
            defaults: {limits: {handshake_timeout: 1s}}
            """
        )
        self.second = gateway
        let size = 8 << 20
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let reader = MeteredReader(closed: loop.makePromise(of: Int.self))
        let channel = try await MeteredReader.connect(reader, port: gateway.port, on: loop)
        defer { channel.close(promise: nil) }
        try await channel.writeAndFlush(
            ByteBuffer(string: "GET /download?size=\(size)&length=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        )
        _ = try await Self.readUntilTheExchangeEnded(reader, size: size, gateway: gateway, on: loop)
        // The reader stops. The gateway closes the connection once handshake_timeout passed.
        var open = -1
        for _ in 0..<200 {
            let stats = try await AdminHTTP.get(port: gateway.adminPort, "/stats").json()
            let http1 = (stats["client_protocols"] as? [String: Any])?["http/1.1"] as? [String: Any]
            open = http1?.int("connections.open") ?? -1
            if open == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertEqual(open, 0, "the connection of the reader that stopped was closed")
        try await channel.setOption(.autoRead, value: true).get()
        channel.read()
        let total = try await reader.closed.futureResult.get()
        let head = try await loop.submit { reader.head }.get()
        let headLength = try XCTUnwrap(head.range(of: "\r\n\r\n")).upperBound.utf16Offset(in: head)
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK\r\n"), head)
        XCTAssertLessThanOrEqual(total - headLength, size, "at most the body; less when the cut dropped a tail")
    }

    /// Reads a `size`-byte answer far from its end freely (more is left than the sockets' buffers
    /// hold), then 4 KiB at a time (1 KiB reads) until the gateway counted the exchange 2xx: its tail
    /// (tens of KiB, or none when the kernel took it) waits behind the sockets' full buffers.
    /// Answers how much was read.
    private static func readUntilTheExchangeEnded(
        _ reader: MeteredReader,
        size: Int,
        gateway: GatewayHarness,
        on loop: any EventLoop
    ) async throws -> Int {
        var received = try await loop.flatSubmit { reader.read(until: size - (4 << 20)) }.get()
        var finished = false
        for _ in 0..<2000 {
            let stats = try await AdminHTTP.get(port: gateway.adminPort, "/stats").json()
            if stats.int("routes.app.http.requests.2xx") == 1 {
                finished = true
                break
            }
            let next = received + 4096
            received = try await loop.flatSubmit { reader.read(until: next) }.get()
        }
        XCTAssertTrue(finished, "the exchange ended (\(received) bytes read)")
        return received
    }

    private func waitForLogLines(_ count: Int) async throws -> [String] {
        for _ in 0..<400 {
            self.gateway.gateway.services.accessLog?.flush()
            let text = (try? String(contentsOf: self.accessLog, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").map(String.init)
            if lines.count >= count { return lines }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw PeerProcessError.timeout("\(count) access log lines")
    }
}

/// A client that reads only when asked: counts what it got (the first bytes kept as text); `closed`
/// completes with the count when the connection closes. Loop-confined: every call on its channel's
/// event loop (hence unchecked).
private final class MeteredReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    let closed: EventLoopPromise<Int>
    private(set) var head = ""
    private var context: ChannelHandlerContext?
    private var received = 0
    private var step: (until: Int, done: EventLoopPromise<Int>)?

    init(closed: EventLoopPromise<Int>) {
        self.closed = closed
    }

    /// A connection to the gateway read by `reader` only when asked, 1 KiB a read, with a 4 KiB
    /// receive buffer: what the reader does not take stays in the gateway's buffers.
    static func connect(_ reader: MeteredReader, port: Int, on loop: any EventLoop) async throws -> any Channel {
        try await ClientBootstrap(group: loop)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 1024))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(reader) }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Reads until `count` bytes in all came, or the connection closed; answers the count then.
    func read(until count: Int) -> EventLoopFuture<Int> {
        guard let context = self.context else { return self.closed.futureResult }
        let done = context.eventLoop.makePromise(of: Int.self)
        guard self.received < count, context.channel.isActive else {
            done.succeed(self.received)
            return done.futureResult
        }
        self.step = (count, done)
        context.read()
        return done.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        if self.head.utf8.count < 1024 { self.head += String(buffer: buffer).prefix(1024) }
        self.received += buffer.readableBytes
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard let step = self.step else { return }
        if self.received >= step.until {
            self.step = nil
            step.done.succeed(self.received)
        } else {
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.step?.done.succeed(self.received)
        self.step = nil
        self.closed.succeed(self.received)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
