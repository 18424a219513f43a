import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

@testable import WSGate

/// Connections are counted from accept (issue 11, finding 5): sockets that never send a byte hold
/// the gateway's slots like any other, at most `max_pending_handshakes` of them wait for their
/// handshake at once (the rest are closed at accept, counted), and they are gone at the handshake
/// timeout, after which a normal client is served.
final class SilentConnectionTests: XCTestCase {
    private var gateway: GatewayHarness!
    private var silent: [any Channel] = []

    override func setUp() async throws {
        self.gateway = try await GatewayHarness.start(
            """
            upstreams: {echo: {protocol: echo}}
            routes: [{name: echo, upstream: echo}]
            limits: {max_connections: 10, max_pending_handshakes: 12}
            defaults: {limits: {handshake_timeout: 1s}}
            """
        )
    }

    override func tearDown() async throws {
        for channel in self.silent { try? await channel.close() }
        await self.gateway?.stop()
    }

    private func limits() async throws -> [String: Any] {
        let stats = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
        return try XCTUnwrap(stats["limits"] as? [String: Any])
    }

    func testSilentConnectionsAreCappedFromAcceptAndExpire() async throws {
        let closed = NIOLockedValueBox(0)
        for _ in 0..<30 {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: self.gateway.port).get()
            channel.closeFuture.whenComplete { _ in closed.withLockedValue { $0 += 1 } }
            self.silent.append(channel)
        }
        // Wait (bounded) until the gateway has accepted or shed all 30.
        var limits: [String: Any] = [:]
        for _ in 0..<100 {
            limits = try await self.limits()
            if closed.withLockedValue({ $0 }) >= 18 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertLessThanOrEqual(limits["pending_handshakes"] as? Int ?? .max, 12)
        XCTAssertLessThanOrEqual(limits["connections"] as? Int ?? .max, 10)
        XCTAssertGreaterThan(limits["pending_handshakes"] as? Int ?? 0, 0, "silent sockets are counted from accept")
        XCTAssertGreaterThanOrEqual(closed.withLockedValue { $0 }, 18, "past max_pending_handshakes, closed at accept")
        let stats = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
        XCTAssertGreaterThanOrEqual(
            stats.int("unrouted.limit_hits.max_pending_handshakes") ?? 0,
            18,
            "\(stats["unrouted"] ?? "")"
        )
        let files = try XCTUnwrap(limits["open_files"] as? [String: Int])
        XCTAssertEqual(files["soft"], files["hard"], "soft file limit raised to the hard one")

        // The handshake timeout ends every silent connection; then a normal client is served.
        for channel in self.silent { try await channel.closeFuture.getWithTimeout(.seconds(10), "the handshake timeout") }
        let ws = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/").requireUpgraded()
        try await ws.sendText("served")
        let echoed = try await ws.receiveText()
        XCTAssertEqual(echoed, "served")
        await ws.close()
        let after = try await self.limits()
        XCTAssertEqual(after["pending_handshakes"] as? Int, 0)
    }
}
