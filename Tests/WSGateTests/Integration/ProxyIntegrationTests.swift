import Foundation
import NIOCore
import NIOWebSocket
import XCTest

@testable import WSGate

/// The real gateway on loopback in front of the in-repo echo app (examples/echo-upstream, built on
/// NIO's own WebSocket codec), driven by the NIO-based test client.
final class ProxyIntegrationTests: XCTestCase {
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.upstream = try await PeerProcess.echoUpstream()
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app:
                endpoints: [127.0.0.1:\(self.upstream.port)]
              down:
                endpoints: [127.0.0.1:1]
                connect_timeout: 2s
              named:
                endpoints: [localhost:\(self.upstream.port)]
            routes:
              - name: by_header
                match: {path_prefix: /headers, headers: {x-route: b}}
                upstream: app
                rewrite_prefix: /headers/by-header
              - name: by_host
                match: {host: "*.example.com", path_prefix: /headers}
                upstream: app
                rewrite_prefix: /headers/by-host
              - name: origin_checked
                match: {path: /guarded}
                upstream: app
                origins: [https://good.example]
              - name: idle
                match: {path: /idle}
                upstream: app
                limits: {idle_timeout: 500ms, ping_interval: 0}
              - name: down
                match: {path_prefix: /down}
                upstream: down
              - name: named
                match: {path_prefix: /named}
                upstream: named
                rewrite_prefix: /echo
              - name: app
                match: {path_prefix: /}
                upstream: app
                serves: websocket
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
    }

    private func connect(_ path: String, headers: [(String, String)] = []) async throws -> TestWebSocketClient {
        try await TestWebSocketClient.connect(port: self.gateway.port, path: path, headers: headers).requireUpgraded()
    }

    /// The request the upstream app saw, as reported by its /headers endpoint.
    private func upstreamView(
        _ path: String,
        headers: [(String, String)] = []
    ) async throws -> (uri: String, headers: [(String, String)]) {
        let ws = try await self.connect(path, headers: headers)
        let json = try await ws.receiveText()
        await ws.close()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let pairs = try XCTUnwrap(object["headers"] as? [[String]])
        return (try XCTUnwrap(object["uri"] as? String), pairs.map { ($0[0], $0[1]) })
    }

    func testEchoesTextBinaryAndFragmentedMessages() async throws {
        let ws = try await self.connect("/echo")
        try await ws.sendText("hello")
        let echoed = try await ws.receiveText()
        XCTAssertEqual(echoed, "hello")

        let binary = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try await ws.sendBinary(binary)
        let (opcode, data) = try await ws.receiveMessage()
        XCTAssertEqual(opcode, .binary)
        XCTAssertEqual(Array(data.readableBytesView), binary)

        // Fragments are relayed frame by frame, not aggregated.
        try await ws.sendText("frag", fin: false)
        try await ws.sendContinuation(Array("ment".utf8), fin: false)
        try await ws.sendContinuation(Array("ed".utf8), fin: true)
        let first = try await ws.nextFrame()
        XCTAssertEqual(first.opcode, .text)
        XCTAssertFalse(first.fin)
        XCTAssertEqual(String(buffer: first.unmaskedData), "frag")
        let second = try await ws.nextFrame()
        XCTAssertEqual(second.opcode, .continuation)
        XCTAssertEqual(String(buffer: second.unmaskedData), "ment")
        let third = try await ws.nextFrame()
        XCTAssertTrue(third.fin)
        XCTAssertEqual(String(buffer: third.unmaskedData), "ed")

        try await ws.sendClose(code: 1000, reason: "done")
        let close = try await ws.waitForClose()
        XCTAssertEqual(close.code, 1000)
    }

    /// An endpoint given by IP address is dialled straight (every other test); one given by name
    /// goes through NIO's resolver and Happy Eyeballs.
    func testEndpointGivenByHostNameIsResolved() async throws {
        let ws = try await self.connect("/named")
        try await ws.sendText("by name")
        let echoed = try await ws.receiveText()
        XCTAssertEqual(echoed, "by name")
        await ws.close()
    }

    func testRoutesByHeaderHostAndPathWithRewriteAndForwardingHeaders() async throws {
        let byHeader = try await self.upstreamView("/headers?q=1", headers: [("X-Route", "b")])
        XCTAssertEqual(byHeader.uri, "/headers/by-header?q=1")

        let byHost = try await self.upstreamView("/headers/x", headers: [("Host", "chat.example.com")])
        XCTAssertEqual(byHost.uri, "/headers/by-host/x")

        let plain = try await self.upstreamView(
            "/headers/plain?z=2",
            headers: [
                ("Cookie", "a=b"), ("Sec-WebSocket-Extensions", "x-webkit-deflate-frame"), ("X-Forwarded-For", "203.0.113.9"),
                ("X_Client_Cert_Subject", "CN=admin"), ("X_Forwarded_Proto", "https"), ("X_Custom", "kept"),
            ]
        )
        XCTAssertEqual(plain.uri, "/headers/plain?z=2")
        func values(_ name: String) -> [String] {
            plain.headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
        }
        XCTAssertEqual(values("Cookie"), ["a=b"])
        XCTAssertEqual(values("Sec-WebSocket-Extensions"), [])
        XCTAssertEqual(values("X-Forwarded-For"), ["203.0.113.9, 127.0.0.1"])
        XCTAssertEqual(values("X-Forwarded-Proto"), ["http"])
        XCTAssertEqual(values("X-Forwarded-Host"), ["127.0.0.1:\(self.gateway.port)"])
        XCTAssertEqual(values("Forwarded"), ["for=127.0.0.1;host=\"127.0.0.1:\(self.gateway.port)\";proto=http"])
        // Issue 11, finding 6: spellings of the gateway's own headers never reach the upstream.
        XCTAssertEqual(plain.headers.map(\.0).filter { $0.contains("_") }, ["X_Custom"])
    }

    func testSubprotocolIsChosenByTheUpstream() async throws {
        let result = try await TestWebSocketClient.connect(
            port: self.gateway.port,
            path: "/echo",
            headers: [("Sec-WebSocket-Protocol", "alpha, beta")]
        )
        XCTAssertEqual(result.status, 101)
        XCTAssertEqual(result.header("Sec-WebSocket-Protocol"), "beta", "echo-upstream picks the last offered")
    }

    func testHandshakeRefusals() async throws {
        func status(_ path: String, _ headers: [(String, String)] = []) async throws -> Int {
            try await TestWebSocketClient.connect(port: self.gateway.port, path: path, headers: headers).status
        }
        let forbidden = try await status("/guarded", [("Origin", "https://evil.example")])
        XCTAssertEqual(forbidden, 403)
        let allowed = try await status("/guarded", [("Origin", "https://good.example")])
        XCTAssertEqual(allowed, 101)
        let refusedByApp = try await status("/reject/418")
        XCTAssertEqual(refusedByApp, 418, "the upstream's own 4xx is passed through")
        let serverError = try await status("/reject/500")
        XCTAssertEqual(serverError, 502)
        let unreachable = try await status("/down")
        XCTAssertEqual(unreachable, 502)
    }

    func testMalformedHandshakesGetTheRightStatus() async throws {
        func answer(_ request: String) async throws -> String {
            try await TestWebSocketClient.rawHTTPRequest(port: self.gateway.port, request: request, timeout: .seconds(10))
        }
        let key = "dGhlIHNhbXBsZSBub25jZQ=="
        let version8 = try await answer(
            "GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 8\r\n\r\n"
        )
        XCTAssertTrue(version8.hasPrefix("HTTP/1.1 426"), version8)
        XCTAssertTrue(version8.lowercased().contains("sec-websocket-version: 13"), version8)

        let noKey = try await answer(
            "GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        XCTAssertTrue(noKey.hasPrefix("HTTP/1.1 400"), noKey)

        let post = try await answer(
            "POST /echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"
        )
        XCTAssertTrue(post.hasPrefix("HTTP/1.1 400"), post)

        let plainGet = try await answer("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertTrue(plainGet.hasPrefix("HTTP/1.1 426"), plainGet)

        // Issue 11, finding 6: a Host that would rewrite the upstream's Forwarded element is refused.
        let forgedHost = try await answer(
            "GET /headers HTTP/1.1\r\nHost: a\", for=6.6.6.6;host=\"x.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        XCTAssertTrue(forgedHost.hasPrefix("HTTP/1.1 400"), forgedHost)

        let garbage = try await answer("\u{1}\u{2} not http\r\n\r\n")
        XCTAssertTrue(garbage.hasPrefix("HTTP/1.1 400"), garbage)
    }

    func testUnknownRouteIs404() async throws {
        let harness = try await GatewayHarness.start(
            """
            upstreams:
              echo: {protocol: echo}
            routes:
              - match: {path: /only}
                upstream: echo
            """
        )
        let result = try await TestWebSocketClient.connect(port: harness.port, path: "/other")
        await harness.stop()
        XCTAssertEqual(result.status, 404)
    }

    func testUpstreamCloseCodeReachesTheClient() async throws {
        let ws = try await self.connect("/close/4001")
        try await ws.sendText("trigger")
        let close = try await ws.waitForClose()
        XCTAssertEqual(close.code, 4001)
        XCTAssertEqual(close.reason, "bye")
    }

    func testClientCloseCodeReachesTheUpstream() async throws {
        let ws = try await self.connect("/record-close")
        try await ws.sendClose(code: 4123, reason: "client done")
        let answer = try await ws.waitForClose()
        XCTAssertEqual(answer.code, 4123)
        // The app keeps the last close it received; ask it through the gateway. The relay and this
        // query race inside the app (different event loops), so ask a bounded number of times.
        var recorded = "none"
        for _ in 0..<20 where recorded == "none" {
            let query = try await self.connect("/last-close")
            recorded = try await query.receiveText()
            await query.close()
        }
        XCTAssertEqual(recorded, "4123 client done")
    }

    func testUpstreamVanishingClosesTheClientWith1014() async throws {
        let ws = try await self.connect("/drop")
        try await ws.sendText("trigger")
        let close = try await ws.waitForClose()
        XCTAssertEqual(close.code, 1014)
    }

    func testClientProtocolViolationIs1002() async throws {
        let ws = try await self.connect("/echo")
        // An unmasked client frame.
        try await ws.sendRaw([0x81, 0x02, 0x68, 0x69])
        let close = try await ws.waitForClose()
        XCTAssertEqual(close.code, 1002)
    }

    func testInvalidUTF8Is1007() async throws {
        let ws = try await self.connect("/echo")
        try await ws.sendBinary([0x01], fin: true)
        _ = try await ws.receiveMessage()
        try await ws.send(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: [0xCE, 0xBA, 0xED, 0xA0, 0x80])))
        let close = try await ws.waitForClose()
        XCTAssertEqual(close.code, 1007)
    }

    func testIdleSessionIsClosedWith1001() async throws {
        let ws = try await self.connect("/idle")
        let started = ContinuousClock.now
        let close = try await ws.waitForClose(timeout: .seconds(10))
        XCTAssertEqual(close.code, 1001)
        XCTAssertEqual(close.reason, "idle timeout")
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(450))
    }

    func testClosingAllSessionsSends1001ToClientAndUpstream() async throws {
        let recorded = try await self.connect("/record-close?record=shutdown")
        let echo = try await self.connect("/echo")
        try await echo.sendText("before")
        let echoed = try await echo.receiveText()
        XCTAssertEqual(echoed, "before")

        let services = self.gateway.gateway.services
        let live = try await self.gateway.gateway.onEachEventLoop { GatewayLoopState.current(for: services).sessions.count }
            .reduce(0, +)
        XCTAssertEqual(live, 2)
        let closed = try await self.gateway.gateway.closeAllSessions(
            WebSocketCloseStatus(code: .goingAway, reason: "shutting down")
        )
        XCTAssertEqual(closed, 2)

        for ws in [recorded, echo] {
            let close = try await ws.waitForClose()
            XCTAssertEqual(close.code, 1001)
            XCTAssertEqual(close.reason, "shutting down")
        }
        var seenByUpstream = "none"
        for _ in 0..<20 where seenByUpstream == "none" {
            let query = try await self.connect("/last-close?record=shutdown")
            seenByUpstream = try await query.receiveText()
            await query.close()
        }
        XCTAssertEqual(seenByUpstream, "1001 shutting down")
    }
}
