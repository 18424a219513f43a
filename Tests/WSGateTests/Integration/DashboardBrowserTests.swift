import Foundation
import XCTest

@testable import WSGate

/// The dashboard at `/` in a real headless browser (Debian's `chromium`, installed by `.ci/run`):
/// with sessions open and traffic running, the page shows the route's connection count. A
/// screenshot is kept under `test-artefacts/` (not committed).
final class DashboardBrowserTests: XCTestCase {
    private var gateway: GatewayHarness?
    private var clients: [TestWebSocketClient] = []

    override func tearDown() async throws {
        for client in self.clients { await client.close() }
        await self.gateway?.stop()
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
        let gateway = try await GatewayHarness.start(
            """
            upstreams: {echo: {protocol: echo}}
            routes: [{name: live, upstream: echo}]
            """
        )
        self.gateway = gateway
        for _ in 0..<3 {
            self.clients.append(try await TestWebSocketClient.connect(port: gateway.port, path: "/").requireUpgraded())
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
            "--virtual-time-budget=4000",
        ]
        let dom = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: chromium),
            arguments: common + ["--dump-dom", url],
            currentDirectory: PeerProcess.repositoryRoot,
            timeout: .seconds(90)
        )
        XCTAssertEqual(dom.status, 0, dom.stderr)
        XCTAssertTrue(dom.stdout.contains("id=\"route-live\""), "the route's card is drawn: \(dom.stdout.suffix(2000))")
        XCTAssertTrue(
            dom.stdout.contains("data-route=\"live\" data-field=\"active\">3</span>"),
            "the page shows the route's 3 connections: \(dom.stdout.suffix(3000))"
        )
        XCTAssertTrue(
            dom.stdout.contains("id=\"status\">live<") || dom.stdout.contains(">live</span>"),
            "the page reached /stats"
        )

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
