import NIOCore
import NIOPosix
import XCTest

@testable import WSGate

/// `limits.max_memory` on the real gateway: over budget, the session holding most is closed; near it,
/// new connections get 503 with `Retry-After`.
final class MemoryBudgetIntegrationTests: XCTestCase {
    private var gateway: GatewayHarness!

    override func tearDown() async throws {
        await self.gateway?.stop()
    }

    private func stats() async throws -> [String: Any] {
        try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
    }

    /// Waits (bounded) until `condition` holds on `/stats`.
    private func waitForStats(_ what: String, _ condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
        for _ in 0..<150 {
            let stats = try await self.stats()
            if condition(stats) { return stats }
            try await Task.sleep(for: .milliseconds(40))
        }
        let last = try await self.stats()
        XCTFail("timed out waiting for \(what): \(last["memory"] ?? "") \(last["routes"] ?? "")")
        return last
    }

    func testOverBudgetTheSessionHoldingMostIsClosed() async throws {
        self.gateway = try await GatewayHarness.start(
            """
            upstreams: {echo: {protocol: echo}}
            routes: [{name: echo, upstream: echo, backpressure: {max_stall: 60s, on_limit: pause}}]
            limits: {max_memory: 256KiB}
            """
        )
        // A client that never reads, sending 16 MiB to the echo behind its request: the echo piles up
        // toward it (a small receive buffer keeps the kernel from absorbing it).
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .connect(host: "127.0.0.1", port: self.gateway.port).get()
        defer { channel.close(promise: nil) }
        let request = TestWebSocketClient.HandshakeRequest(
            host: "127.0.0.1",
            port: self.gateway.port,
            path: "/",
            extraHeaders: []
        )
        var bytes = request.bytes
        let frame = TestWebSocketClient.maskedFrameBytes(opcode: 0x2, payload: [UInt8](repeating: 7, count: 64 << 10))
        for _ in 0..<256 { bytes += frame }
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)

        let stats = try await self.waitForStats("the session to be closed for max_memory") {
            $0.int("routes.echo.limit_hits.max_memory") ?? 0 >= 1
        }
        XCTAssertEqual(stats.int("routes.echo.limit_hits.max_memory"), 1)
        _ = try await self.waitForStats("the session to end") { $0.int("routes.echo.connections.active") == 0 }
    }

    func testNearlyFullBudgetRefusesNewConnectionsWith503() async throws {
        self.gateway = try await GatewayHarness.start(
            """
            upstreams: {echo: {protocol: echo}}
            routes: [{name: echo, upstream: echo}]
            limits: {max_memory: 32KiB}
            defaults: {compression: {enabled: true, context_takeover: true}}
            """
        )
        // One compressed session with its own inflater (about 40 KiB once it inflated a message) is over
        // the budget by itself.
        let ws = try await TestWebSocketClient.connect(
            port: self.gateway.port,
            path: "/",
            headers: [("Sec-WebSocket-Extensions", "permessage-deflate")]
        ).requireUpgraded()
        // "Hello", compressed (RFC 7692 section 7.2.3.1).
        try await ws.sendRaw(
            TestWebSocketClient.maskedFrameBytes(rsv: 0x4, opcode: 0x1, payload: [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
        )
        _ = try await ws.nextFrame()
        _ = try await self.waitForStats("zlib memory over the budget") {
            ($0["memory"] as? [String: Any])?["pressure"] as? String == "over"
        }

        let refused = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/")
        guard case .refused(let status, let headers, _) = refused else { return XCTFail("expected 503") }
        XCTAssertEqual(status, 503)
        XCTAssertEqual(headers.first { $0.0.lowercased() == "retry-after" }?.1, "1")
        let stats = try await self.stats()
        XCTAssertEqual(stats.int("routes.echo.limit_hits.max_memory"), 1)
        await ws.close()
    }
}
