import Foundation
import NIOCore
import XCTest

@testable import WSGate

/// `/stats`, `/stats/connections` and `/metrics` against a scripted traffic pattern, with exact figures.
final class StatsIntegrationTests: XCTestCase {
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
    }

    private func start(stats: Bool = true) async throws {
        self.upstream = try await PeerProcess.echoUpstream()
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app:
                endpoints: [127.0.0.1:\(self.upstream.port)]
            routes:
              - name: app
                match: {path_prefix: /echo}
                upstream: app
                serves: websocket
              - name: closer
                match: {path_prefix: /close}
                upstream: app
            """,
            admin: "stats: \(stats)"
        )
    }

    private func stats() async throws -> [String: Any] {
        let response = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Type"), "application/json")
        return try response.json()
    }

    /// Polls `/stats` until no session is active (sessions end a moment after the client saw the close).
    private func statsOnceIdle() async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let stats = try await self.stats()
            if stats.int("totals.connections.active") == 0 || ContinuousClock.now > deadline { return stats }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Three clients exchange ten 100-byte messages each and close (1000, 1000, 4001); one more is
    /// closed by the upstream (4002) after one message; one request finds no route (404) and one is
    /// not a WebSocket upgrade (426).
    private func runScriptedTraffic(countsTraffic: Bool = true) async throws {
        var clients: [TestWebSocketClient] = []
        for _ in 0..<3 {
            clients.append(try await TestWebSocketClient.connect(port: self.gateway.port, path: "/echo").requireUpgraded())
        }
        let payload = [UInt8](repeating: 0x41, count: 100)
        for client in clients {
            for _ in 0..<10 {
                try await client.sendBinary(payload)
                let (_, echoed) = try await client.receiveMessage()
                XCTAssertEqual(echoed.readableBytes, 100)
            }
        }

        // While they are open: the connection list and the open upstream connections.
        let list = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats/connections?route=app&sort=bytes&limit=2").json()
        XCTAssertEqual(list.int("count"), 3)
        let listed = try XCTUnwrap(list["connections"] as? [[String: Any]])
        XCTAssertEqual(listed.count, 2)
        for connection in listed {
            XCTAssertEqual(connection["route"] as? String, "app")
            XCTAssertEqual(connection["path"] as? String, "/echo")
            XCTAssertEqual(connection.int("messages.client_to_upstream"), countsTraffic ? 10 : 0)
            XCTAssertEqual(connection.int("messages.upstream_to_client"), countsTraffic ? 10 : 0)
            XCTAssertEqual(connection.int("bytes.upstream_to_client"), countsTraffic ? 1000 : 0)
            XCTAssertEqual(connection["compressed"] as? Bool, false)
            XCTAssertEqual(connection.at("paused.toward_client") as? Bool, false)
            XCTAssertNotNil(connection.int("buffered_bytes.toward_upstream"))
        }
        let open = try await self.stats()
        XCTAssertEqual(open.int("routes.app.connections.active"), 3)
        let upstreamConnections = try XCTUnwrap(open.at("upstreams.app.connections") as? [String: Any])
        XCTAssertEqual(upstreamConnections["127.0.0.1:\(self.upstream.port)"] as? Int, 3)
        XCTAssertEqual((open["event_loops"] as? [[String: Any]])?.reduce(0) { $0 + ($1["connections"] as? Int ?? 0) }, 3)

        for (client, code) in zip(clients, [UInt16(1000), 1000, 4001]) {
            try await client.sendClose(code: code)
            let (echoed, _) = try await client.waitForClose()
            XCTAssertEqual(echoed, code)
            try await client.waitForTCPClose()
        }

        let closed = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/close/4002").requireUpgraded()
        try await closed.sendBinary(payload)
        let (code, _) = try await closed.waitForClose()
        XCTAssertEqual(code, 4002)
        try await closed.waitForTCPClose()

        let missing = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/missing")
        guard case .refused(let status, _, _) = missing else { return XCTFail("expected a 404, got an upgrade") }
        XCTAssertEqual(status, 404)
        let plain = try await TestWebSocketClient.rawHTTPRequest(
            port: self.gateway.port,
            request: "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        XCTAssertTrue(plain.hasPrefix("HTTP/1.1 426"), plain)
    }

    func testStatsAndMetricsMatchAScriptedTrafficPatternExactly() async throws {
        try await self.start()
        try await self.runScriptedTraffic()
        let stats = try await self.statsOnceIdle()

        XCTAssertEqual(stats.int("routes.app.connections.total"), 3)
        XCTAssertEqual(stats.int("routes.app.connections.active"), 0)
        XCTAssertEqual(stats.int("routes.app.messages.client_to_upstream"), 30)
        XCTAssertEqual(stats.int("routes.app.messages.upstream_to_client"), 30)
        XCTAssertEqual(stats.int("routes.app.bytes.client_to_upstream"), 3000)
        XCTAssertEqual(stats.int("routes.app.bytes.upstream_to_client"), 3000)
        XCTAssertEqual(stats.int("routes.app.closes.client.1000"), 2)
        XCTAssertEqual(stats.int("routes.app.closes.client.4001"), 1)
        XCTAssertEqual(stats.int("routes.app.handshake_failures.426"), 1)
        XCTAssertEqual(stats.int("routes.app.message_bytes.client_to_upstream.count"), 30)
        XCTAssertEqual(stats.int("routes.app.message_bytes.client_to_upstream.sum"), 3000)
        XCTAssertEqual(stats.at("routes.app.upstream") as? String, "app")
        XCTAssertEqual(stats.int("routes.closer.connections.total"), 1)
        XCTAssertEqual(stats.int("routes.closer.messages.client_to_upstream"), 1)
        XCTAssertEqual(stats.int("routes.closer.messages.upstream_to_client"), 0)
        XCTAssertEqual(stats.int("routes.closer.closes.upstream.4002"), 1)
        XCTAssertEqual(stats.int("unrouted.handshake_failures.404"), 1)
        XCTAssertEqual(stats.int("totals.messages.client_to_upstream"), 31)
        XCTAssertEqual(stats.int("upstreams.app.connects"), 4)
        XCTAssertEqual((stats.at("upstreams.app.connections") as? [String: Any])?.count, 0)
        XCTAssertTrue(stats.at("upstreams.app.pool") is NSNull)
        XCTAssertEqual(stats.int("upstreams.app.connect_seconds.count"), 4)
        XCTAssertEqual(stats.int("config.version"), 1)
        XCTAssertTrue(stats.at("config.last_reload_error") is NSNull)
        XCTAssertEqual(stats["stats_enabled"] as? Bool, true)

        // Scraped twice: the second scrape must not count anything again.
        for _ in 0..<2 {
            let metrics = try await self.scrapeMetrics()
            XCTAssertEqual(metrics.families["wsgate_connections"], "counter")
            XCTAssertEqual(metrics.families["wsgate_connections_active"], "gauge")
            XCTAssertEqual(metrics.families["wsgate_message_bytes"], "histogram")
            XCTAssertEqual(metrics.families["wsgate_upstream_connect_seconds"], "histogram")
            XCTAssertEqual(metrics.families["wsgate_upstream_connections"], "gauge")
            XCTAssertEqual(metrics.value("wsgate_connections_total", ["route": "app"]), 3)
            XCTAssertEqual(metrics.value("wsgate_connections_active", ["route": "app"]), 0)
            XCTAssertEqual(metrics.value("wsgate_messages_total", ["route": "app", "direction": "client_to_upstream"]), 30)
            XCTAssertEqual(metrics.value("wsgate_messages_total", ["route": "app", "direction": "upstream_to_client"]), 30)
            XCTAssertEqual(metrics.value("wsgate_bytes_total", ["route": "app", "direction": "client_to_upstream"]), 3000)
            XCTAssertEqual(
                metrics.value("wsgate_compressed_bytes_total", ["route": "app", "direction": "upstream_to_client"]),
                0
            )
            XCTAssertEqual(metrics.value("wsgate_close_codes_total", ["route": "app", "code": "1000", "side": "client"]), 2)
            XCTAssertEqual(metrics.value("wsgate_close_codes_total", ["route": "app", "code": "4001", "side": "client"]), 1)
            XCTAssertEqual(metrics.value("wsgate_close_codes_total", ["route": "closer", "code": "4002", "side": "upstream"]), 1)
            XCTAssertEqual(metrics.value("wsgate_handshake_failures_total", ["route": "", "status": "404"]), 1)
            XCTAssertEqual(metrics.value("wsgate_handshake_failures_total", ["route": "app", "status": "426"]), 1)
            XCTAssertEqual(
                metrics.value("wsgate_backpressure_pauses_total", ["route": "app", "direction": "upstream_to_client"]),
                0
            )
            XCTAssertEqual(metrics.value("wsgate_message_bytes_count", ["route": "app", "direction": "client_to_upstream"]), 30)
            XCTAssertEqual(metrics.value("wsgate_message_bytes_sum", ["route": "app", "direction": "upstream_to_client"]), 3000)
            XCTAssertEqual(
                metrics.bucket("wsgate_message_bytes", ["route": "app", "direction": "client_to_upstream"], le: 64),
                0
            )
            XCTAssertEqual(
                metrics.bucket("wsgate_message_bytes", ["route": "app", "direction": "client_to_upstream"], le: 256),
                30
            )
            XCTAssertEqual(metrics.value("wsgate_upstream_connect_seconds_count", ["upstream": "app"]), 4)
            XCTAssertEqual(
                metrics.value("wsgate_upstream_connections", ["upstream": "app", "endpoint": "127.0.0.1:\(self.upstream.port)"]),
                0
            )
        }
    }

    func testWithStatsOffTrafficIsNotCountedButSessionsAre() async throws {
        try await self.start(stats: false)
        try await self.runScriptedTraffic(countsTraffic: false)
        let stats = try await self.statsOnceIdle()
        XCTAssertEqual(stats["stats_enabled"] as? Bool, false)
        XCTAssertEqual(stats.int("routes.app.connections.total"), 3)
        XCTAssertEqual(stats.int("routes.app.messages.client_to_upstream"), 0)
        XCTAssertEqual(stats.int("routes.app.closes.client.1000"), 2)
    }

    private func scrapeMetrics() async throws -> ParsedMetrics {
        let result = try await runPythonPeer("metrics_parse.py", args: ["http://127.0.0.1:\(self.gateway.adminPort)/metrics"])
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        return try ParsedMetrics(result)
    }
}

/// The output of Tests/Peers/metrics_parse.py.
struct ParsedMetrics {
    var families: [String: String]
    var samples: [(name: String, labels: [String: String], value: Double)]

    init(_ result: [String: Any]) throws {
        self.families = try XCTUnwrap(result["families"] as? [String: String])
        let samples = try XCTUnwrap(result["samples"] as? [[Any]])
        self.samples = samples.compactMap { sample in
            guard sample.count == 3, let name = sample[0] as? String, let labels = sample[1] as? [String: String],
                let value = (sample[2] as? NSNumber)?.doubleValue
            else { return nil }
            return (name, labels, value)
        }
    }

    /// The value of the one sample with exactly these labels, nil when there is none.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        self.samples.first { $0.name == name && $0.labels == labels }?.value
    }

    func bucket(_ family: String, _ labels: [String: String], le: Double) -> Double? {
        self.samples.first { sample in
            var rest = sample.labels
            guard sample.name == family + "_bucket", let bound = rest.removeValue(forKey: "le").flatMap(Double.init) else {
                return false
            }
            return bound == le && rest == labels
        }?.value
    }
}
