import Foundation
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
        let post = try await TestWebSocketClient.rawHTTPRequest(
            port: gateway.adminPort,
            request: "POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        XCTAssertTrue(post.hasPrefix("HTTP/1.1 405"), post)
    }
}
