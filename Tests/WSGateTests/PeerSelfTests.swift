import Foundation
import NIOCore
import NIOWebSocket
import XCTest

/// Checks the test peers themselves: the Swift test client against examples/echo-upstream and
/// the Python echo server, and the Python client against both servers.
final class PeerSelfTests: XCTestCase {
    // MARK: - Swift client ↔ echo-upstream

    func testEchoUpstreamEchoesFramesAsTheyArrive() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        defer { upstream.stop() }
        let ws = try await TestWebSocketClient.connect(port: upstream.port, path: "/").requireUpgraded()

        try await ws.sendText("hello")
        let text = try await ws.nextFrame()
        XCTAssertEqual(text.opcode, .text)
        XCTAssertTrue(text.fin)
        XCTAssertNil(text.maskKey, "a server must not mask")
        XCTAssertEqual(String(buffer: text.unmaskedData), "hello")

        // A fragmented message comes back frame by frame, with the same opcodes and FIN bits.
        try await ws.sendBinary([1, 2, 3], fin: false)
        try await ws.sendContinuation([4, 5], fin: false)
        try await ws.sendContinuation([6], fin: true)
        for (opcode, fin, bytes) in [
            (WebSocketOpcode.binary, false, [1, 2, 3] as [UInt8]), (.continuation, false, [4, 5]), (.continuation, true, [6]),
        ] {
            let frame = try await ws.nextFrame()
            XCTAssertEqual(frame.opcode, opcode)
            XCTAssertEqual(frame.fin, fin)
            XCTAssertEqual(Array(frame.unmaskedData.readableBytesView), bytes)
        }

        try await ws.sendPing([9, 8, 7])
        let pong = try await ws.nextFrame()
        XCTAssertEqual(pong.opcode, .pong)
        XCTAssertEqual(Array(pong.unmaskedData.readableBytesView), [9, 8, 7])

        // One 1 MiB frame, reassembled by receiveMessage.
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await ws.sendBinary(big)
        let (opcode, data) = try await ws.receiveMessage()
        XCTAssertEqual(opcode, .binary)
        XCTAssertEqual(Array(data.readableBytesView), big)

        try await ws.sendClose(code: 4321, reason: "done")
        let close = try await ws.waitForClose()
        XCTAssertEqual(close.code, 4321)
        XCTAssertEqual(close.reason, "done")
    }

    func testEchoUpstreamCloseCode() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        defer { upstream.stop() }
        let ws = try await TestWebSocketClient.connect(port: upstream.port, path: "/close/4001").requireUpgraded()
        try await ws.sendText("hi")
        let close = try await ws.waitForClose()
        XCTAssertEqual(close.code, 4001)
        XCTAssertEqual(close.reason, "bye")
    }

    func testEchoUpstreamReject() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        defer { upstream.stop() }
        let result = try await TestWebSocketClient.connect(port: upstream.port, path: "/reject/403")
        guard case .refused(let status, _, let body) = result else {
            return XCTFail("expected a refusal, got \(result)")
        }
        XCTAssertEqual(status, 403)
        XCTAssertTrue(body.contains("403"), body)
        XCTAssertEqual(result.header("content-length"), String(body.utf8.count))
    }

    func testEchoUpstreamSelectsLastOfferedSubprotocol() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        defer { upstream.stop() }
        let result = try await TestWebSocketClient.connect(
            port: upstream.port,
            path: "/",
            headers: [("Sec-WebSocket-Protocol", "chat, superchat"), ("Sec-WebSocket-Protocol", "v3.test")]
        )
        XCTAssertEqual(result.status, 101)
        XCTAssertEqual(result.header("Sec-WebSocket-Protocol"), "v3.test")
        await (try result.requireUpgraded()).close()

        let none = try await TestWebSocketClient.connect(port: upstream.port, path: "/")
        XCTAssertNil(none.header("Sec-WebSocket-Protocol"))
        await (try none.requireUpgraded()).close()
    }

    func testEchoUpstreamHeadersSendAndDrop() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        defer { upstream.stop() }

        let headersWS = try await TestWebSocketClient.connect(
            port: upstream.port,
            path: "/headers/x?a=1",
            headers: [("X-Test", "one"), ("x-test", "two")]
        ).requireUpgraded()
        let json = try await headersWS.receiveText()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["uri"] as? String, "/headers/x?a=1")
        let headers = try XCTUnwrap(object["headers"] as? [[String]])
        XCTAssertEqual(headers.filter { $0[0].lowercased() == "x-test" }, [["X-Test", "one"], ["x-test", "two"]])
        try await headersWS.sendText("still echoes")
        let echoed = try await headersWS.receiveText()
        XCTAssertEqual(echoed, "still echoes")
        await headersWS.close()

        let sendWS = try await TestWebSocketClient.connect(port: upstream.port, path: "/send/3").requireUpgraded()
        for _ in 0..<3 {
            let (opcode, data) = try await sendWS.receiveMessage()
            XCTAssertEqual(opcode, .binary)
            XCTAssertEqual(Array(data.readableBytesView), (0..<1024).map { UInt8($0 % 256) })
        }
        await sendWS.close()

        let dropWS = try await TestWebSocketClient.connect(port: upstream.port, path: "/drop").requireUpgraded()
        try await dropWS.sendText("bye")
        try await dropWS.waitForTCPClose()
        do {
            let frame = try await dropWS.nextFrame(timeout: .seconds(2))
            XCTFail("expected no frame, got \(frame)")
        } catch TestWebSocketClientError.connectionClosed {
            // expected: closed without a close frame
        }
    }

    func testRecordCloseAndLastClose() async throws {
        for server in [try await PeerProcess.echoUpstream(), try await PeerProcess.pythonEchoServer()] {
            defer { server.stop() }
            let before = try await TestWebSocketClient.connect(port: server.port, path: "/last-close").requireUpgraded()
            let none = try await before.receiveText()
            XCTAssertEqual(none, "none", server.name)
            await before.close()

            let recorder = try await TestWebSocketClient.connect(port: server.port, path: "/record-close").requireUpgraded()
            try await recorder.sendClose(code: 4123, reason: "client done")
            let answer = try await recorder.waitForClose()
            XCTAssertEqual(answer.code, 4123, server.name)

            let query = try await TestWebSocketClient.connect(port: server.port, path: "/last-close").requireUpgraded()
            let last = try await query.receiveText()
            XCTAssertEqual(last, "4123 client done", server.name)
            await query.close()
        }
    }

    func testSendRawAndRawHTTP() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        defer { upstream.stop() }
        let ws = try await TestWebSocketClient.connect(port: upstream.port, path: "/").requireUpgraded()
        // A hand-made masked text frame, split in two writes.
        let bytes = TestWebSocketClient.maskedFrameBytes(opcode: 0x1, payload: Array("raw".utf8), lengthForm: .medium)
        try await ws.sendRaw(Array(bytes.prefix(3)))
        try await ws.sendRaw(Array(bytes.dropFirst(3)))
        let raw = try await ws.receiveText()
        XCTAssertEqual(raw, "raw")
        // A frame with a reserved opcode: NIO's error handling answers 1002.
        try await ws.sendRaw(TestWebSocketClient.maskedFrameBytes(opcode: 0x3, payload: [], maskKey: [1, 2, 3, 4]))
        let close = try await ws.waitForClose()
        XCTAssertEqual(close.code, 1002)

        let plain = try await TestWebSocketClient.rawHTTPRequest(
            port: upstream.port,
            request: "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
        )
        XCTAssertTrue(plain.hasPrefix("HTTP/1.1 426"), plain)
    }

    func testTimeoutsAndEarlyExit() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        defer { upstream.stop() }
        let ws = try await TestWebSocketClient.connect(port: upstream.port, path: "/").requireUpgraded()
        let started = ContinuousClock.now
        do {
            let frame = try await ws.nextFrame(timeout: .milliseconds(200))
            XCTFail("expected a timeout, got \(frame)")
        } catch TestWebSocketClientError.timeout {
            XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
        }
        // The connection is still usable after a timed-out read.
        try await ws.sendText("after")
        let after = try await ws.receiveText()
        XCTAssertEqual(after, "after")
        await ws.close()

        do {
            let peer = try await PeerProcess.echoUpstream(arguments: ["--port", "not-a-port"])
            XCTFail("expected an early exit, got a peer on port \(peer.port)")
        } catch PeerProcessError.exitedEarly(_, let status, let stderr) {
            XCTAssertEqual(status, 2)
            XCTAssertTrue(stderr.contains("usage"), stderr)
        }
    }

    func testChunkedBodyDecoding() {
        let body = Array("4\r\nWiki\r\n6;ext=1\r\npedia \r\n0\r\n\r\n".utf8)
        XCTAssertEqual(
            TestWebSocketClient.HandshakeHandler.decodeChunked(body).map { String(decoding: $0, as: UTF8.self) },
            "Wikipedia "
        )
        XCTAssertNil(TestWebSocketClient.HandshakeHandler.decodeChunked(Array("4\r\nWi".utf8)))
    }

    func testAcceptValueMatchesRFC6455Example() {
        XCTAssertEqual(TestWebSocketClient.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    // MARK: - Swift client ↔ Python server

    func testSwiftClientAgainstPythonServer() async throws {
        let server = try await PeerProcess.pythonEchoServer()
        defer { server.stop() }

        let result = try await TestWebSocketClient.connect(
            port: server.port,
            path: "/",
            headers: [("Sec-WebSocket-Protocol", "a, b")]
        )
        XCTAssertEqual(result.header("sec-websocket-protocol"), "b")
        let ws = try result.requireUpgraded()
        try await ws.sendText("héllo", fin: false)
        try await ws.sendContinuation(Array(" wörld".utf8), fin: true)
        let reassembled = try await ws.receiveText()
        XCTAssertEqual(reassembled, "héllo wörld")
        try await ws.sendClose(code: 1000, reason: "ok")
        let close = try await ws.waitForClose()
        XCTAssertEqual(close.code, 1000)
        XCTAssertEqual(close.reason, "ok")

        let closing = try await TestWebSocketClient.connect(port: server.port, path: "/close/4002").requireUpgraded()
        try await closing.sendBinary([1])
        let serverClose = try await closing.waitForClose()
        XCTAssertEqual(serverClose.code, 4002)
        XCTAssertEqual(serverClose.reason, "bye")

        let refused = try await TestWebSocketClient.connect(port: server.port, path: "/reject/451")
        XCTAssertEqual(refused.status, 451)
        guard case .refused(_, _, let body) = refused else { return XCTFail("not refused") }
        XCTAssertTrue(body.contains("451"), body)
    }

    // MARK: - Python client

    func testPythonClientAgainstPythonServer() async throws {
        let server = try await PeerProcess.pythonEchoServer()
        defer { server.stop() }
        let url = "ws://127.0.0.1:\(server.port)/"
        let sizes = "0,1,125,126,127,65535,65536,1048576"

        let echo = try await runPythonClient(args: ["echo", url, "--sizes", sizes, "--subprotocol", "x", "--subprotocol", "y"])
        XCTAssertEqual(echo["ok"] as? Bool, true, "\(echo)")
        XCTAssertEqual(echo["messages"] as? Int, 16)
        XCTAssertEqual(echo["subprotocol"] as? String, "y")

        let fragmented = try await runPythonClient(args: ["echo", url, "--sizes", sizes, "--fragment-size", "1000"])
        XCTAssertEqual(fragmented["ok"] as? Bool, true, "\(fragmented)")
    }

    func testPythonClientAgainstEchoUpstream() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        defer { upstream.stop() }
        let base = "ws://127.0.0.1:\(upstream.port)"

        let echo = try await runPythonClient(args: [
            "echo", base + "/", "--sizes", "0,1,125,126,65535,65536", "--fragment-size", "100",
        ])
        XCTAssertEqual(echo["ok"] as? Bool, true, "\(echo)")
        XCTAssertEqual(echo["exit_code"] as? Int, 0)

        let close = try await runPythonClient(args: ["close", base + "/close/4001"])
        XCTAssertEqual(close["close_code"] as? Int, 4001)
        XCTAssertEqual(close["close_reason"] as? String, "bye")

        let drop = try await runPythonClient(args: ["close", base + "/drop"])
        XCTAssertTrue(drop["close_code"] is NSNull, "\(drop)")

        let rejected = try await runPythonClient(args: ["handshake", base + "/reject/403"])
        XCTAssertEqual(rejected["status"] as? Int, 403)

        let handshake = try await runPythonClient(args: ["handshake", base + "/", "--subprotocol", "p1", "--subprotocol", "p2"])
        XCTAssertEqual(handshake["status"] as? Int, 101)
        XCTAssertEqual(handshake["subprotocol"] as? String, "p2")

        let first = try await runPythonClient(args: ["first", base + "/headers", "--header", "X-Probe: 42"])
        let message = try XCTUnwrap(first["message"] as? String)
        XCTAssertTrue(message.contains("[\"X-Probe\", \"42\"]"), message)

        let failure = try await runPythonClient(args: ["--timeout", "2", "first", base + "/"])
        XCTAssertEqual(failure["exit_code"] as? Int, 1)
        XCTAssertNotNil(failure["error"])
    }
}
