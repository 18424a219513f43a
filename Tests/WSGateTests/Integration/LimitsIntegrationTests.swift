import NIOCore
import NIOWebSocket
import XCTest

@testable import WSGate

/// Backpressure and abuse limits on the real gateway, with the in-repo echo app as upstream.
final class LimitsIntegrationTests: XCTestCase {
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.upstream = try await PeerProcess.echoUpstream()
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app:
                endpoints: [127.0.0.1:\(self.upstream.port)]
            routes:
              - name: flood
                match: {path_prefix: /send}
                upstream: app
                backpressure: {high_water: 64KiB, low_water: 16KiB, max_buffered: 8MiB, max_stall: 300ms, on_limit: close}
              - name: rate
                match: {path: /rate}
                upstream: app
                limits: {max_messages_per_second: 10}
              - name: app
                match: {path_prefix: /}
                upstream: app
            defaults:
              limits: {max_header_bytes: 4KiB, max_headers: 20}
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
    }

    private func connect(_ path: String) async throws -> TestWebSocketClient {
        try await TestWebSocketClient.connect(port: self.gateway.port, path: path).requireUpgraded()
    }

    /// What the echo app recorded as the last close frame it got on connections tagged `tag`,
    /// asked through the gateway until something was recorded (bounded in count and time).
    private func lastCloseRecorded(tag: String, within limit: Duration) async throws -> String {
        let deadline = ContinuousClock.now + limit
        var recorded = "none"
        for _ in 0..<10_000 where recorded == "none" && ContinuousClock.now < deadline {
            let query = try await self.connect("/last-close?record=\(tag)")
            recorded = try await query.receiveText()
            await query.close()
        }
        return recorded
    }

    func testClientThatStopsReadingIsClosedWhileOthersKeepFlowing() async throws {
        // The app floods 50 MiB at a client that reads nothing.
        let slow = try await self.connect("/send/51200?record=slow")
        try await slow.channel.setOption(.autoRead, value: false).get()

        let active = try await self.connect("/echo")
        let payload = [UInt8](repeating: 0x5A, count: 512)
        for _ in 0..<50 {
            try await active.sendBinary(payload)
            let (_, echoed) = try await active.receiveMessage()
            XCTAssertEqual(echoed.readableBytes, payload.count)
        }

        // After max_stall the gateway ends the slow session: the app hears why...
        let recorded = try await self.lastCloseRecorded(tag: "slow", within: .seconds(30))
        XCTAssertEqual(recorded, "1001 client too slow")
        // ...and the slow client's connection is closed once it looks again.
        try await slow.channel.setOption(.autoRead, value: true).get()
        slow.channel.read()
        try await slow.waitForTCPClose(timeout: .seconds(30))

        // The other session was untouched.
        try await active.sendText("still here")
        let text = try await active.receiveText()
        XCTAssertEqual(text, "still here")
    }

    func testMessageRateLimitClosesWith1008() async throws {
        let ws = try await self.connect("/rate")
        for index in 0..<20 {
            try await ws.sendText("message \(index)")
        }
        var close: (code: UInt16?, reason: String)?
        for _ in 0..<25 where close == nil {
            let frame = try await ws.nextFrame()
            if frame.opcode == .connectionClose {
                close = TestWebSocketClient.parseClosePayload(frame.unmaskedData)
            }
        }
        XCTAssertEqual(close?.code, 1008)
        XCTAssertEqual(close?.reason, "message rate limit exceeded")
    }

    func testSlowLorisHandshakeGets408AtTheHandshakeTimeout() async throws {
        let harness = try await GatewayHarness.start(
            """
            upstreams:
              echo: {protocol: echo}
            routes:
              - match: {path: /echo}
                upstream: echo
            defaults:
              limits: {handshake_timeout: 500ms}
            """
        )
        let started = ContinuousClock.now
        let answer = try await TestWebSocketClient.rawHTTPRequest(
            port: harness.port,
            request: "GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: websock",
            timeout: .seconds(10)
        )
        let elapsed = ContinuousClock.now - started
        await harness.stop()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 408"), answer)
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(450))
    }

    func testOversizedOrCrowdedHeadersGet431() async throws {
        let base =
            "GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        let big = try await TestWebSocketClient.rawHTTPRequest(
            port: self.gateway.port,
            request: base + "X-Big: \(String(repeating: "a", count: 5000))\r\n\r\n"
        )
        XCTAssertTrue(big.hasPrefix("HTTP/1.1 431"), big)
        let crowded = try await TestWebSocketClient.rawHTTPRequest(
            port: self.gateway.port,
            request: base + (0..<30).map { "X-H\($0): v\r\n" }.joined() + "\r\n"
        )
        XCTAssertTrue(crowded.hasPrefix("HTTP/1.1 431"), crowded)
        let fine = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/echo")
        XCTAssertEqual(fine.status, 101)
    }
}
