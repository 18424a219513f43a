import Foundation
import XCTest

@testable import WSGate

/// The dashboard at `/` in a real headless browser (Debian's `chromium`, installed by `.ci/run`):
/// with sessions open and traffic running (an echo route, and a route to a Python app with one
/// endpoint up and one down), the page shows the route's connection count, a non-zero headline
/// rate, the endpoints' health, the closes by side and the live connections. A screenshot is kept
/// under `test-artefacts/` (not committed).
final class DashboardBrowserTests: XCTestCase {
    private var gateway: GatewayHarness?
    private var clients: [TestWebSocketClient] = []
    /// The HMAC secret of the route with auth (read by the in-process gateway).
    private static let secretVariable = "WSGATE_DASHBOARD_TEST_HMAC_SECRET"

    override func tearDown() async throws {
        for client in self.clients { await client.close() }
        await self.gateway?.stop()
    }

    /// The text after `marker` up to the next `<`.
    private static func text(in page: String, after marker: String) -> String? {
        guard let start = page.range(of: marker) else { return nil }
        return String(page[start.upperBound...].prefix { $0 != "<" })
    }

    private static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func testDashboardShowsTheRouteConnectionCountWhileTrafficRuns() async throws {
        guard let chromium = Self.chromium else {
            // CI must run it (.ci/run installs chromium); elsewhere a missing browser skips the test.
            if ProcessInfo.processInfo.environment["CI"] != nil {
                return XCTFail("chromium is not installed (apt-get install chromium; .ci/run does)")
            }
            throw XCTSkip("chromium is not installed (apt-get install chromium)")
        }
        // A real upstream app and an endpoint nothing listens on, for the upstream panel.
        let upstream = try await PeerProcess.pythonEchoServer()
        defer { upstream.stop() }
        let dead = try await H2TestUpstream.freePort()
        // An HTTP app (the chat example's aiohttp app), for the HTTP answers by status class.
        let web = try await PeerProcess.start(
            name: "examples/chat/app.py",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [
                PeerProcess.python, "-u", PeerProcess.repositoryRoot.appendingPathComponent("examples/chat/app.py").path,
                "--port", "0",
            ],
            currentDirectory: PeerProcess.repositoryRoot
        )
        defer { web.stop() }
        setenv(Self.secretVariable, "dashboard-test-secret-of-32-bytes", 1)
        let gateway = try await GatewayHarness.start(
            """
            upstreams:
              echo: {protocol: echo}
              app: {protocol: websocket, endpoints: [127.0.0.1:\(upstream.port), 127.0.0.1:\(dead)]}
              web: {protocol: http, endpoints: [127.0.0.1:\(web.port)]}
            routes:
              - {name: app, match: {path_prefix: /app/}, upstream: app, rewrite_prefix: /}
              - {name: web, match: {path_prefix: /web/}, upstream: web, rewrite_prefix: /, serves: http}
              - name: locked
                match: {path_prefix: /locked/}
                upstream: web
                rewrite_prefix: /
                serves: http
                auth: {jwt: {algorithms: [HS256], hmac_secret_env: \(Self.secretVariable)}}
              - {name: live, upstream: echo}
            """
        )
        self.gateway = gateway
        for _ in 0..<3 {
            self.clients.append(try await TestWebSocketClient.connect(port: gateway.port, path: "/").requireUpgraded())
        }
        for _ in 0..<2 {
            self.clients.append(try await TestWebSocketClient.connect(port: gateway.port, path: "/app/echo").requireUpgraded())
        }
        // One session the app closes with 4001, for the closes by side.
        let closing = try await TestWebSocketClient.connect(port: gateway.port, path: "/app/close/4001").requireUpgraded()
        try await closing.sendText("close me")
        let close = try await closing.waitForClose()
        XCTAssertEqual(close.code, 4001)
        await closing.close()
        // Three 200s and a 404 from the HTTP app.
        for path in ["/web/api/rooms", "/web/api/rooms/general/messages", "/web/", "/web/api/rooms/nope/messages"] {
            let answer = try await AdminHTTP.send(port: gateway.port, "GET", path)
            XCTAssertEqual(answer.status, path.contains("nope") ? 404 : 200, "\(path): \(answer.body)")
        }
        // Two requests without a token on the route with auth: refused, never proxied.
        for _ in 0..<2 {
            let refused = try await AdminHTTP.send(port: gateway.port, "GET", "/locked/api/rooms")
            XCTAssertEqual(refused.status, 401, refused.body)
        }
        // Traffic runs while the browser polls.
        let traffic = Task { [clients = self.clients] in
            var sent = 0
            while !Task.isCancelled, sent < 20_000 {
                for client in clients {
                    try await client.sendText("tick \(sent)")
                    _ = try await client.receiveText()
                    sent += 1
                }
            }
        }
        defer { traffic.cancel() }

        let url = "http://127.0.0.1:\(gateway.adminPort)/"
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--virtual-time-budget=4000",
        ]
        let dom = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: chromium),
            arguments: common + ["--dump-dom", url],
            currentDirectory: PeerProcess.repositoryRoot,
            timeout: .seconds(90)
        )
        XCTAssertEqual(dom.status, 0, dom.stderr)
        let page = dom.stdout
        XCTAssertTrue(page.contains("id=\"route-live\""), "the route's card is drawn: \(page.suffix(2000))")
        XCTAssertTrue(
            page.contains("data-route=\"live\" data-field=\"active\">3</span>"),
            "the page shows the route's 3 connections: \(page.suffix(3000))"
        )
        XCTAssertTrue(page.contains("id=\"status\">live<") || page.contains(">live</span>"), "the page reached /stats")

        // The headline rate is over the chart's window: traffic ran all along, so it is not 0.
        let rate = try XCTUnwrap(Self.text(in: page, after: "data-route=\"live\" data-field=\"messages_rate\">"), page)
        XCTAssertNotEqual(rate, "0", "messages/s beside a chart with traffic")
        XCTAssertNotEqual(rate, "-")
        XCTAssertNotEqual(Self.text(in: page, after: "id=\"total-messages-rate\">"), "0")

        // Upstream endpoints: the live one healthy with the app's two sessions, the dead one failing.
        XCTAssertTrue(
            page.contains("data-upstream=\"app\" data-endpoint=\"127.0.0.1:\(upstream.port)\" data-healthy=\"true\""),
            "the live endpoint's row: \(page)"
        )
        let deadRow = try XCTUnwrap(
            page.range(of: "data-upstream=\"app\" data-endpoint=\"127.0.0.1:\(dead)\""),
            "the dead endpoint's row"
        )
        let deadRowText = page[deadRow.upperBound...].prefix(600)
        XCTAssertTrue(
            deadRowText.contains("back-off (") || deadRowText.contains("retrying after back-off ("),
            "the dead endpoint is shown failing: \(deadRowText)"
        )

        // HTTP answers by status class on the HTTP route.
        let web2xx = try XCTUnwrap(page.range(of: "data-status-class=\"2xx\""), "the 2xx row: \(page)")
        XCTAssertTrue(page[web2xx.upperBound...].prefix(200).contains(">3<"), "three 2xx answers")
        XCTAssertTrue(page.contains("data-status-class=\"4xx\""), "the 404 is listed")

        // Authentication on the route with auth: none admitted, the two refusals by reason; and the
        // HTTP upstream's keep-alive pool in the endpoints table.
        let admitted = try XCTUnwrap(page.range(of: "data-auth=\"admitted\""), "the auth table: \(page)")
        XCTAssertTrue(page[admitted.upperBound...].prefix(200).contains(">0<"), "no client admitted")
        let missing = try XCTUnwrap(page.range(of: "data-auth=\"missing_token\""), "the refusal row: \(page)")
        XCTAssertTrue(page[missing.upperBound...].prefix(200).contains(">2<"), "two refusals for a missing token")
        XCTAssertTrue(page.contains("HTTP keep-alive: "), "the HTTP pool of the web upstream")

        // Closes by side: the app's 4001.
        XCTAssertTrue(page.contains("data-close=\"upstream-4001\""), "the upstream's 4001 close is listed")

        // Live connections: the five sessions in both tables (most queued bytes, oldest).
        XCTAssertEqual(page.components(separatedBy: "data-connection=\"").count - 1, 10, "5 sessions × 2 tables")
        XCTAssertTrue(page.contains("data-table=\"top-buffered\""))
        XCTAssertTrue(page.contains("data-table=\"top-age\""))

        let artefacts = PeerProcess.repositoryRoot.appendingPathComponent("test-artefacts")
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let screenshot = artefacts.appendingPathComponent("dashboard.png")
        try? FileManager.default.removeItem(at: screenshot)
        let shot = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: chromium),
            arguments: common + ["--window-size=1280,900", "--hide-scrollbars", "--screenshot=\(screenshot.path)", url],
            currentDirectory: PeerProcess.repositoryRoot,
            timeout: .seconds(90)
        )
        XCTAssertEqual(shot.status, 0, shot.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: screenshot.path), "screenshot at \(screenshot.path)")
    }
}
