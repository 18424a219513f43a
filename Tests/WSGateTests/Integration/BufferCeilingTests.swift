import NIOCore
import NIOWebSocket
import XCTest

@testable import WSGate

/// Compressed input toward an upstream that stopped reading (issue 11, finding 4): a frame of 65 KB
/// that inflates to 64 MiB is inflated only as far as the upstream leg has room, so the gateway holds at
/// most `high_water` plus one output chunk for it, whatever `on_limit` says; with `on_limit: close` the
/// session ends at `max_stall` with 1013 to the client.
final class BufferCeilingTests: XCTestCase {
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.upstream = try await PeerProcess.pythonEchoServer()
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app: {endpoints: [127.0.0.1:\(self.upstream.port)]}
            routes:
              - name: held
                match: {path_prefix: /held}
                upstream: app
                rewrite_prefix: /stall
                limits: {max_message: 128MiB, max_frame: 128MiB}
                backpressure: {high_water: 256KiB, low_water: 64KiB, max_buffered: 2MiB, max_stall: 60s, on_limit: pause}
              - name: closed
                match: {path_prefix: /closed}
                upstream: app
                rewrite_prefix: /stall
                limits: {max_message: 128MiB, max_frame: 128MiB}
                backpressure: {high_water: 256KiB, low_water: 64KiB, max_buffered: 2MiB, max_stall: 500ms, on_limit: close}
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
    }

    private func sendBomb(path: String) async throws -> TestWebSocketClient {
        let bomb = try deflatedZeros(size: 64 << 20)
        XCTAssertLessThan(bomb.count, 128 << 10)
        let ws = try await TestWebSocketClient.connect(
            port: self.gateway.port,
            path: path,
            headers: [("Sec-WebSocket-Extensions", "permessage-deflate; client_no_context_takeover; server_no_context_takeover")]
        ).requireUpgraded()
        try await ws.sendRaw(TestWebSocketClient.maskedFrameBytes(rsv: 0x4, opcode: 0x2, payload: bomb))
        return ws
    }

    /// The session as `/stats/connections` shows it.
    private func session(route: String) async throws -> [String: Any]? {
        let list = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats/connections?route=\(route)").json()
        return (list["connections"] as? [[String: Any]])?.first
    }

    func testBombTowardAStalledUpstreamIsInflatedOnlyAsFarAsThereIsRoom() async throws {
        let ws = try await self.sendBomb(path: "/held")
        // Wait (bounded) until the session is paused toward the upstream and its figures settle.
        var last: (relayed: Int, buffered: Int)?
        var settledWhilePaused = false
        for _ in 0..<100 {
            let session = try await self.session(route: "held")
            let bytes = session?["bytes"] as? [String: Int]
            let buffered = session?["buffered_bytes"] as? [String: Int]
            let paused = (session?["paused"] as? [String: Bool])?["toward_upstream"] ?? false
            let now = (bytes?["client_to_upstream"] ?? 0, buffered?["toward_upstream"] ?? 0)
            if paused, let last, last == now {
                settledWhilePaused = true
                break
            }
            last = now
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertTrue(settledWhilePaused, "the session paused toward the upstream and its figures settled")
        let settled = try XCTUnwrap(last)
        XCTAssertLessThanOrEqual(settled.buffered, (256 << 10) + 2 * PerMessageInflater.chunkSize, "queued toward the upstream")
        XCTAssertLessThan(settled.relayed, 64 << 20, "the rest waits compressed")
        XCTAssertGreaterThan(settled.relayed, 0)
        await ws.close()
    }

    func testStalledUpstreamEndsTheSessionWith1013AtMaxStall() async throws {
        let ws = try await self.sendBomb(path: "/closed")
        let close = try await ws.waitForClose(timeout: .seconds(20))
        XCTAssertEqual(close.code, 1013)
        XCTAssertTrue(close.reason.contains("backpressure"), close.reason)
    }
}
