import Foundation
import XCTest

@testable import WSGate

/// `limits.max_connections` (gateway and route) and `limits.max_connections_per_ip`: excess
/// handshakes get 503 with Retry-After, and are counted.
final class ConnectionLimitTests: XCTestCase {
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
    private func refusal(_ gateway: GatewayHarness, _ path: String) async throws -> (status: Int, retryAfter: String?) {
        let result = try await TestWebSocketClient.connect(port: gateway.port, path: path)
        guard case .refused(let status, let headers, _) = result else {
            XCTFail("expected a refusal on \(path)")
            return (101, nil)
        }
        return (status, headers.first { $0.0.lowercased() == "retry-after" }?.1)
    }

    func testRouteLimitRefusesWith503AndFreesTheSlotWhenASessionEnds() async throws {
        let gateway = try await self.start(
            """
            upstreams: {echo: {protocol: echo}}
            routes:
              - {name: small, match: {path: /small}, upstream: echo, limits: {max_connections: 2}}
              - {name: other, upstream: echo}
            limits: {retry_after: 3s}
            """
        )
        let first = try await TestWebSocketClient.connect(port: gateway.port, path: "/small").requireUpgraded()
        let second = try await TestWebSocketClient.connect(port: gateway.port, path: "/small").requireUpgraded()
        let refused = try await self.refusal(gateway, "/small")
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.retryAfter, "3")
        // Other routes are not affected.
        let other = try await TestWebSocketClient.connect(port: gateway.port, path: "/other").requireUpgraded()

        try await first.sendClose(code: 1000)
        _ = try await first.waitForClose()
        try await first.waitForTCPClose()
        // The slot comes back when the gateway has seen the client connection close.
        var third: TestWebSocketClient?
        for _ in 0..<200 where third == nil {
            if case .upgraded(let client, _) = try await TestWebSocketClient.connect(port: gateway.port, path: "/small") {
                third = client
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        XCTAssertNotNil(third)

        let stats = try await AdminHTTP.get(port: gateway.adminPort, "/stats").json()
        XCTAssertGreaterThanOrEqual(stats.int("routes.small.limit_hits.max_connections") ?? 0, 1)
        XCTAssertGreaterThanOrEqual(stats.int("routes.small.handshake_failures.503") ?? 0, 1)
        for client in [second, other] + (third.map { [$0] } ?? []) {
            await client.close()
        }
    }

    func testGatewayAndPerIPLimits() async throws {
        let global = try await self.start(
            """
            upstreams: {echo: {protocol: echo}}
            routes: [{name: echo, upstream: echo}]
            limits: {max_connections: 1}
            """
        )
        let held = try await TestWebSocketClient.connect(port: global.port, path: "/").requireUpgraded()
        let refusedGlobally = try await self.refusal(global, "/")
        XCTAssertEqual(refusedGlobally.status, 503)
        XCTAssertEqual(refusedGlobally.retryAfter, "1")
        let stats = try await AdminHTTP.get(port: global.adminPort, "/stats").json()
        XCTAssertEqual(stats.int("routes.echo.limit_hits.global_max_connections"), 1)
        XCTAssertEqual(stats.int("limits.connections"), 1)
        await held.close()
        await global.stop()

        let perIP = try await self.start(
            """
            upstreams: {echo: {protocol: echo}}
            routes: [{name: echo, upstream: echo}]
            limits: {max_connections_per_ip: 2}
            """
        )
        let a = try await TestWebSocketClient.connect(port: perIP.port, path: "/").requireUpgraded()
        let b = try await TestWebSocketClient.connect(port: perIP.port, path: "/").requireUpgraded()
        let refusedPerIP = try await self.refusal(perIP, "/")
        XCTAssertEqual(refusedPerIP.status, 503)
        let metrics = try await runPythonPeer("metrics_parse.py", args: ["http://127.0.0.1:\(perIP.adminPort)/metrics"])
        let parsed = try ParsedMetrics(metrics)
        XCTAssertEqual(parsed.value("wsgate_limit_hits_total", ["route": "echo", "limit": "max_connections_per_ip"]), 1)
        await a.close()
        await b.close()
    }
}
