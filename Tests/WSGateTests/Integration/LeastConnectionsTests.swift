import Foundation
import NIOCore
import NIOPosix
import XCTest

@testable import WSGate

/// `balance: least_connections` on a `websocket` (HTTP/1.1) upstream: while one endpoint holds a
/// long session, new sessions go to the other. The gateway runs on a one-thread group, so that every
/// session is counted on the same loop (the counts are per EventLoop).
final class LeastConnectionsTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!
    private var first: PeerProcess!
    private var second: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.first = try await PeerProcess.pythonEchoServer()
        self.second = try await PeerProcess.pythonEchoServer()
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app:
                endpoints: [127.0.0.1:\(self.first.port), 127.0.0.1:\(self.second.port)]
                balance: least_connections
            routes:
              - {name: app, match: {path_prefix: /}, upstream: app}
            """,
            group: self.group
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.first?.stop()
        self.second?.stop()
        try await self.group?.shutdownGracefully()
    }

    /// Open upstream connections by endpoint, from `/stats`.
    private func openConnections() async throws -> [String: Int] {
        let stats = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
        let upstream = (stats["upstreams"] as? [String: Any])?["app"] as? [String: Any]
        let connections = upstream?["connections"] as? [String: Any] ?? [:]
        return connections.compactMapValues { ($0 as? NSNumber)?.intValue ?? $0 as? Int }
    }

    func testNewSessionsGoToTheEndpointWithoutTheLongSession() async throws {
        let busy = "127.0.0.1:\(self.first.port)"
        let free = "127.0.0.1:\(self.second.port)"
        // The first session of the loop starts the rotation at the first endpoint, and stays.
        let long = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/").requireUpgraded()
        try await long.sendText("long")
        _ = try await long.receiveText()
        let held = try await self.openConnections()
        XCTAssertEqual(held, [busy: 1])

        // Round robin would send every other one to the busy endpoint.
        for index in 0..<4 {
            let ws = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/").requireUpgraded()
            try await ws.sendText("short \(index)")
            let echoed = try await ws.receiveText()
            XCTAssertEqual(echoed, "short \(index)")
            let during = try await self.openConnections()
            XCTAssertEqual(during, [busy: 1, free: 1], "session \(index)")
            await ws.close()
            // Its upstream connection closes behind the client's close (waited for, bounded).
            var after = try await self.openConnections()
            for _ in 0..<200 where after[free] != nil {
                try await Task.sleep(for: .milliseconds(10))
                after = try await self.openConnections()
            }
            XCTAssertEqual(after, [busy: 1], "session \(index) ended")
        }
        try await long.sendText("still here")
        let echoed = try await long.receiveText()
        XCTAssertEqual(echoed, "still here")
        await long.close()
    }
}
