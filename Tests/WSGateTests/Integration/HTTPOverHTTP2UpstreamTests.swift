import Foundation
import NIOCore
import NIOPosix
import XCTest

@testable import WSGate

/// Plain HTTP requests to a `websocket-h2` upstream go as ordinary HTTP/2 streams of the same pool
/// as its WebSockets, against a server we did not write: hypercorn (h2c with prior knowledge)
/// running the ASGI app of Tests/Peers/h2_echo_server.py, which allows 2 concurrent streams per
/// connection. Clients: curl and Python `httpx`. The gateway runs one loop, so every request of a
/// test shares the loop's one pooled connection.
final class HTTPOverHTTP2UpstreamTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!
    private var app: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.app = try await PeerProcess.start(
            name: "h2_echo_server.py",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [
                PeerProcess.python, "-u", PeerProcess.peerScript("h2_echo_server.py").path, "--port", "0", "--max-streams", "2",
            ],
            currentDirectory: PeerProcess.repositoryRoot
        )
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app:
                protocol: websocket-h2
                endpoints: [127.0.0.1:\(self.app.port)]
                connect_timeout: 20s
                pool: {connections_per_loop: 1, max_connections_per_loop: 1}
            routes:
              - {name: app, upstream: app}
            """,
            group: self.group
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.app?.stop()
        try await self.group?.shutdownGracefully()
    }

    private var base: String { "http://127.0.0.1:\(self.gateway.port)" }

    private func httpx(_ arguments: [String]) async throws -> [String: Any] {
        let result = try await runPythonPeer("http_client.py", args: arguments, timeout: .seconds(120))
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        return result
    }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    /// What the app counted, asked through the gateway.
    private func appStats() async throws -> [String: Any] {
        let got = try await self.httpx(["get", "\(self.base)/http-stats"])
        return try self.json(try XCTUnwrap((got["responses"] as? [[String: Any]])?.first?["body"] as? String))
    }

    func testRequestsStreamBothWaysAsHTTP2StreamsBesideTheWebSockets() async throws {
        let got = try await self.httpx(["get", "\(self.base)/json?x=1", "\(self.base)/json?x=2"])
        let responses = try XCTUnwrap(got["responses"] as? [[String: Any]])
        XCTAssertEqual(responses.compactMap { $0["status"] as? Int }, [200, 200])
        let body = try self.json(try XCTUnwrap(responses.first?["body"] as? String))
        XCTAssertEqual(body["http_version"] as? String, "2", "an HTTP/2 stream upstream")
        XCTAssertEqual(body["path"] as? String, "/json?x=1")
        let headers = Dictionary(
            (body["headers"] as? [[String]] ?? []).map { ($0[0], $0[1]) },
            uniquingKeysWith: { $1 }
        )
        XCTAssertEqual(headers["x-forwarded-for"], "127.0.0.1", "the one forwarding policy")
        XCTAssertEqual(headers["host"], "127.0.0.1:\(self.gateway.port)", "the client's Host as :authority")
        XCTAssertNil(headers["connection"])

        // A 3 MB chunked upload with Expect: 100-continue, and an 8 MiB download without
        // Content-Length (re-chunked for the HTTP/1.1 client), both streamed through the stream's
        // flow control.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-h2-upload-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }).write(to: file)
        let upload = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: "/usr/bin/curl"),
            arguments: [
                "-sS", "-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue", "--data-binary", "@\(file.path)",
                "\(self.base)/upload",
            ],
            timeout: .seconds(60)
        )
        XCTAssertEqual(upload.status, 0, upload.stderr)
        XCTAssertEqual(try self.json(upload.stdout)["bytes"] as? Int, 3_000_000, upload.stdout)
        let download = try await self.httpx(["download", "\(self.base)/download?size=\(8 << 20)", String(8 << 20)])
        XCTAssertEqual(download["status"] as? Int, 200)
        XCTAssertEqual(download["bytes"] as? Int, 8 << 20)
        XCTAssertEqual(download["pattern_ok"] as? Bool, true)

        // The WebSocket of the same route, an extended CONNECT on the same pool.
        let ws = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/echo").requireUpgraded()
        try await ws.sendText("beside the requests")
        let echoed = try await ws.receiveText()
        XCTAssertEqual(echoed, "beside the requests")
        await ws.close()

        let stats = try await self.appStats()
        XCTAssertEqual(stats["connections"] as? Int, 1, "every request a stream of the loop's one pooled connection")
        let pool = await self.gateway.gateway.upstreamPoolStats()["app"]?.first
        XCTAssertEqual(pool?.counters.streamsOpened, 1, "the pool's stream figures count WebSockets only")
        XCTAssertEqual(pool?.counters.streamsFailed, 0)
    }

    /// Twelve requests at once against a server allowing 2 streams per connection, with a pool of
    /// one connection: the pool opens no third stream, the others wait for a free one, and all are
    /// answered.
    func testMaxConcurrentStreamsIsRespected() async throws {
        let port = self.gateway.port
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<12 {
                group.addTask {
                    try await TestWebSocketClient.rawHTTPRequest(
                        port: port,
                        request: "GET /slow?delay=0.2&n=\(index) HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                        timeout: .seconds(60)
                    )
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(answers.filter { $0.hasPrefix("HTTP/1.1 200 OK") }.count, 12, "\(answers)")
        let stats = try await self.appStats()
        XCTAssertEqual(stats["max_in_flight"] as? Int, 2, "never more streams than the server's MAX_CONCURRENT_STREAMS")
        XCTAssertEqual(stats["connections"] as? Int, 1)
    }

    /// An HTTP/2 upstream's `103 Early Hints` is not relayed: the client gets the final 200, its head
    /// and body framed (relayed, the 103 took the 200's place, the body went out raw and NIO's server
    /// pipeline handler trapped on it in this debug build).
    func testEarlyHintsAreNotRelayedAndTheFinalAnswerIs() async throws {
        let answer = try await TestWebSocketClient.rawHTTPRequest(
            port: self.gateway.port,
            request: "GET /early-hints HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            timeout: .seconds(30)
        )
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), answer)
        XCTAssertEqual(answer.components(separatedBy: "HTTP/1.1 ").count - 1, 1, answer)
        XCTAssertTrue(answer.lowercased().contains("content-length: 6\r\n"), answer)
        XCTAssertTrue(answer.hasSuffix("\r\n\r\nfinal\n"), answer)
    }

    /// The upstream dies while a request waits for its answer: the stream is gone before any byte
    /// of it, the idempotent request is tried once more, finds no upstream, and is answered 502.
    func testAnUpstreamLostBeforeAnsweringIs502() async throws {
        let port = self.gateway.port
        let waiting = Task {
            try await TestWebSocketClient.rawHTTPRequest(
                port: port,
                request: "GET /slow?delay=30 HTTP/1.1\r\nHost: a\r\n\r\n",
                timeout: .seconds(60)
            )
        }
        // The request is at the app once the app has two in progress: it and the question.
        for _ in 0..<250 {
            let stats = try await self.appStats()
            if stats["in_flight"] as? Int ?? 0 >= 2 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Killed, not stopped: a hypercorn that shuts down gracefully answers 500 itself.
        kill(self.app.pid, SIGKILL)
        let answer = try await waiting.value
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 502 "), answer)
        var pool = await self.gateway.gateway.upstreamPoolStats()["app"]?.first
        for _ in 0..<250 where pool?.connectionsOpen != 0 {
            try await Task.sleep(for: .milliseconds(20))
            pool = await self.gateway.gateway.upstreamPoolStats()["app"]?.first
        }
        XCTAssertEqual(pool?.connectionsOpen, 0)
        XCTAssertEqual(pool?.counters.sessionsLost, 0, "an HTTP request lost with the connection is no WebSocket session")
    }
}
