import NIOCore
import NIOWebSocket
import XCTest

@testable import WSGate

/// A client may send its first frames right behind its upgrade request, in the same TCP segment
/// (issue 11, finding 1: that used to kill the process as soon as the 101 was written). They must be
/// delivered, whatever the upstream kind, and a segment of garbage behind the request must fail only
/// that connection, with the right close code.
final class PipelinedHandshakeTests: XCTestCase {
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.upstream = try await PeerProcess.pythonEchoServer()
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              echo: {protocol: echo}
              app: {endpoints: [127.0.0.1:\(self.upstream.port)]}
            routes:
              - {name: echo, match: {path_prefix: /echo}, upstream: echo}
              - {name: app, match: {path_prefix: /}, upstream: app}
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
    }

    private func connect(_ path: String, pipelined: [UInt8], headers: [(String, String)] = []) async throws -> TestWebSocketClient
    {
        try await TestWebSocketClient.connect(port: self.gateway.port, path: path, headers: headers, pipelined: pipelined)
            .requireUpgraded()
    }

    private static func text(_ string: String, fin: Bool = true, opcode: UInt8 = 0x1) -> [UInt8] {
        TestWebSocketClient.maskedFrameBytes(fin: fin, opcode: opcode, payload: Array(string.utf8))
    }

    func testFramesInTheRequestSegmentAreEchoedOnEveryUpstreamKind() async throws {
        for path in ["/echo", "/app"] {
            let pipelined = Self.text("first") + Self.text("sec", fin: false) + Self.text("ond", fin: true, opcode: 0x0)
            let ws = try await self.connect(path, pipelined: pipelined)
            let first = try await ws.receiveText()
            XCTAssertEqual(first, "first", path)
            let second = try await ws.receiveText()
            XCTAssertEqual(second, "second", path)
            // The session runs on as usual afterwards.
            try await ws.sendText("third")
            let third = try await ws.receiveText()
            XCTAssertEqual(third, "third", path)
            await ws.close()
        }
    }

    func testPipelinedCompressedFrameIsInflatedAndEchoed() async throws {
        // "Hello" compressed with an empty dictionary (RFC 7692 section 7.2.3.1), RSV1 set.
        let compressed: [UInt8] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        let frame = TestWebSocketClient.maskedFrameBytes(rsv: 0x4, opcode: 0x1, payload: compressed)
        let ws = try await self.connect(
            "/app",
            pipelined: frame,
            headers: [("Sec-WebSocket-Extensions", "permessage-deflate; client_no_context_takeover; server_no_context_takeover")]
        )
        let echoed = try await ws.receiveMessage()
        XCTAssertEqual(echoed.opcode, .text)
        XCTAssertEqual(
            String(buffer: echoed.data),
            "Hello",
            "inflated before it was relayed (the answer is below min_size: sent plain)"
        )
        await ws.close()
    }

    func testPipelinedCloseIsAnswered() async throws {
        for path in ["/echo", "/app"] {
            var payload: [UInt8] = [0x03, 0xE8]  // 1000
            payload += Array("bye".utf8)
            let ws = try await self.connect(path, pipelined: TestWebSocketClient.maskedFrameBytes(opcode: 0x8, payload: payload))
            let close = try await ws.waitForClose()
            XCTAssertEqual(close.code, 1000, path)
            try await ws.waitForTCPClose()
        }
    }

    func testGarbageBehindTheRequestFailsOnlyThatConnection() async throws {
        // Reserved bits and opcode followed by 63 random bytes, a second request head, an unmasked
        // frame: each is a protocol error from its first byte.
        let garbages: [[UInt8]] = [
            [0xF3] + (0..<63).map { _ in UInt8.random(in: 0...255) },
            Array("GET /again HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            [0x81, 0x05] + Array("plain".utf8),
        ]
        for garbage in garbages {
            let ws = try await self.connect("/app", pipelined: garbage)
            let close = try await ws.waitForClose()
            XCTAssertEqual(close.code, 1002, "\(garbage.prefix(8))")
            try await ws.waitForTCPClose()
        }
        // The gateway still serves.
        let ws = try await self.connect("/echo", pipelined: Self.text("alive"))
        let alive = try await ws.receiveText()
        XCTAssertEqual(alive, "alive")
        await ws.close()
    }
}
