import Foundation
import XCTest

@testable import WSGate

/// The browser-shaped flow in headless Chromium (Debian's `chromium`, installed by `.ci/run`): a page
/// of the app (Tests/Peers/auth_peer.py auth-app, over HTTPS) sets a `session` cookie holding a JWT,
/// then opens `wss://` through the gateway; the gateway reads the token from the cookie and the
/// upstream (the Python `websockets` echo server's `/headers`) receives `X-User-Id`.
final class AuthBrowserTests: XCTestCase {
    private static let secretVariable = "WSGATE_TEST_HMAC_BROWSER"
    private var gateway: GatewayHarness?

    override func tearDown() async throws {
        await self.gateway?.stop()
    }

    private static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func testCookieFromTheAppAuthenticatesTheBrowsersWebSocket() async throws {
        guard let chromium = Self.chromium else {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                return XCTFail("chromium is not installed (apt-get install chromium; .ci/run does)")
            }
            throw XCTSkip("chromium is not installed (apt-get install chromium)")
        }
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-browser-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: keys) }
        _ = try await runPythonPeer("auth_peer.py", args: ["keys", "--dir", keys.path])
        setenv(Self.secretVariable, try String(contentsOf: keys.appendingPathComponent("hmac.secret"), encoding: .utf8), 1)
        let upstream = try await PeerProcess.pythonEchoServer()
        defer { upstream.stop() }
        let app = try await PeerProcess.start(
            name: "auth-app",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [
                PeerProcess.python, "-u", PeerProcess.peerScript("auth_peer.py").path, "auth-app", "--dir", keys.path, "--tls",
            ]
        )
        defer { app.stop() }
        let gateway = try await GatewayHarness.start(
            """
            upstreams:
              app:
                endpoints: [127.0.0.1:\(upstream.port)]
            routes:
              - name: app
                match: {path_prefix: /app/}
                upstream: app
                rewrite_prefix: /
                auth:
                  jwt: {algorithms: [HS256], hmac_secret_env: \(Self.secretVariable)}
                  token_sources: [{cookie: session}]
                  claim_headers: {sub: X-User-Id}
            """,
            tls: "{self_signed: true}"
        )
        self.gateway = gateway

        let result = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: chromium),
            arguments: [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--ignore-certificate-errors",
                "--user-data-dir=\(keys.appendingPathComponent("profile").path)",
                "--virtual-time-budget=5000", "--dump-dom",
                "https://127.0.0.1:\(app.port)/login?gw=\(gateway.port)",
            ],
            currentDirectory: PeerProcess.repositoryRoot,
            timeout: .seconds(90)
        )
        XCTAssertEqual(result.status, 0, result.stderr)
        let dom = result.stdout
        let shown = dom.range(of: "<pre id=\"out\">").map { String(dom[$0.upperBound...].prefix(400)) } ?? dom
        XCTAssertTrue(
            dom.contains(#"[&quot;X-User-Id&quot;, &quot;browser-user&quot;]"#)
                || dom.contains(#"["X-User-Id", "browser-user"]"#),
            "the upstream's report in the page: \(shown)"
        )
        XCTAssertFalse(dom.contains("session="), "the cookie holding the token did not reach the upstream: \(shown)")
        let stats = try await AdminHTTP.get(port: gateway.adminPort, "/stats").json()
        XCTAssertEqual(stats.int("routes.app.auth.admitted"), 1)
    }
}
