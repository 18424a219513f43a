import Foundation
import XCTest

@testable import WSGate

/// A route's `auth` on plain HTTP requests: the HTTP proxy asks the same `RouteAuthenticator` as the
/// WebSocket handshake, per request, before an upstream connection is leased (aiohttp app upstream).
final class HTTPAuthIntegrationTests: XCTestCase {
    private static let secretVariable = "WSGATE_TEST_HMAC_HTTP"
    private static let secret = "http-auth-test-secret-of-at-least-32-bytes"
    private var app: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        setenv(Self.secretVariable, Self.secret, 1)
        self.app = try await PeerProcess.start(
            name: "http_app.py",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [PeerProcess.python, "-u", PeerProcess.peerScript("http_app.py").path, "--port", "0"]
        )
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app: {endpoints: [127.0.0.1:\(self.app.port)]}
            routes:
              - name: app
                upstream: app
                auth:
                  jwt: {algorithms: [HS256], hmac_secret_env: \(Self.secretVariable)}
                  token_sources: [bearer, {query: access_token}]
                  claim_headers: {sub: X-User-Id}
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.app?.stop()
    }

    private func token(_ subject: String) -> String {
        TestTokens.hs256(["sub": subject, "exp": Int(Date().timeIntervalSince1970) + 300], secret: Array(Self.secret.utf8))
    }

    private func appSaw(_ response: AdminHTTPResponse) throws -> (path: String, headers: [(String, String)]) {
        let object = try response.json()
        let headers = (object["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }
        return (object["path"] as? String ?? "", headers)
    }

    func testAdmittedRequestCarriesTheClaimHeaderAndNotTheToken() async throws {
        let response = try await AdminHTTP.send(
            port: self.gateway.port,
            "GET",
            "/json?access_token=\(self.token("alice"))&page=2",
            headers: [("X-User-Id", "mallory")]
        )
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try self.appSaw(response)
        XCTAssertEqual(seen.path, "/json?page=2")
        XCTAssertEqual(seen.headers.filter { $0.0 == "x-user-id" }.map(\.1), ["alice"])

        let bearer = try await AdminHTTP.send(
            port: self.gateway.port,
            "GET",
            "/json",
            headers: [("Authorization", "Bearer \(self.token("bob"))")]
        )
        XCTAssertEqual(bearer.status, 200, bearer.body)
        XCTAssertEqual(try self.appSaw(bearer).headers.filter { $0.0 == "authorization" }.count, 0)
    }

    func testRefusedRequestNeverReachesTheApp() async throws {
        let missing = try await AdminHTTP.send(port: self.gateway.port, "GET", "/json")
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.header("WWW-Authenticate")?.hasPrefix("Bearer error=\"invalid_token\""), true)
        let forged = try await AdminHTTP.send(
            port: self.gateway.port,
            "GET",
            "/json",
            headers: [("Authorization", "Bearer a.b.c")]
        )
        XCTAssertEqual(forged.status, 401)
        let counters = try await AdminHTTP.get(port: self.app.port, "/counters").json()
        XCTAssertEqual(counters.int("requests"), 0, "the app saw none of the refused requests")
        let stats = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
        XCTAssertEqual(stats.int("routes.app.auth.refused.missing_token"), 1)
        XCTAssertEqual(stats.int("routes.app.auth.refused.malformed_token"), 1)
    }
}
