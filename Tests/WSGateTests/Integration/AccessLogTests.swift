import Foundation
import XCTest

@testable import WSGate

/// `log.access`: one line per session at its end and one per refused handshake, JSON or text, to a
/// file reopened by `Gateway.reopenAccessLog()`.
final class AccessLogTests: XCTestCase {
    private var gateway: GatewayHarness?
    private var directory: URL!

    override func setUp() async throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-access-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        try? FileManager.default.removeItem(at: self.directory)
    }

    private func start(format: String, file: URL) async throws -> GatewayHarness {
        let gateway = try await GatewayHarness.start(
            """
            upstreams: {echo: {protocol: echo}}
            routes: [{name: chat, match: {path_prefix: /chat}, upstream: echo}]
            log: {access: {format: \(format), destination: "\(file.path)"}}
            """
        )
        self.gateway = gateway
        return gateway
    }

    /// One session (two messages of 5 bytes, client closes with 4000) and one refused handshake.
    private func traffic(_ gateway: GatewayHarness) async throws {
        let session = try await TestWebSocketClient.connect(port: gateway.port, path: "/chat/room?x=1").requireUpgraded()
        for _ in 0..<2 {
            try await session.sendText("hello")
            _ = try await session.receiveText()
        }
        try await session.sendClose(code: 4000)
        _ = try await session.waitForClose()
        try await session.waitForTCPClose()
        _ = try await TestWebSocketClient.connect(port: gateway.port, path: "/nowhere")
    }

    /// Lines of the file once it has `count` of them (sessions are logged a moment after the client
    /// saw its close).
    private func lines(_ file: URL, count: Int) async throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            self.gateway?.gateway.services.accessLog?.flush()
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").map(String.init)
            if lines.count >= count || ContinuousClock.now > deadline { return lines }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func testJSONLinesForASessionAndARefusal() async throws {
        let file = self.directory.appendingPathComponent("access.log")
        let gateway = try await self.start(format: "json", file: file)
        try await self.traffic(gateway)
        let lines = try await self.lines(file, count: 2)
        XCTAssertEqual(lines.count, 2, "\(lines)")
        let objects = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let session = try XCTUnwrap(objects.first { $0["event"] as? String == "session" })
        XCTAssertEqual(session["route"] as? String, "chat")
        XCTAssertEqual(session["upstream"] as? String, "echo")
        XCTAssertEqual(session["path"] as? String, "/chat/room", "the query is left out (it may carry secrets)")
        XCTAssertTrue(session["subprotocol"] is NSNull)
        XCTAssertEqual(session["compression"] as? Bool, false)
        XCTAssertEqual(session["messages_in"] as? Int, 2)
        XCTAssertEqual(session["messages_out"] as? Int, 2)
        XCTAssertEqual(session["bytes_in"] as? Int, 10)
        XCTAssertEqual(session["bytes_out"] as? Int, 10)
        XCTAssertEqual(session["close_code"] as? Int, 4000)
        XCTAssertEqual(session["close_side"] as? String, "client")
        XCTAssertTrue((session["client"] as? String)?.hasPrefix("127.0.0.1:") ?? false, "\(session)")
        XCTAssertNotNil(session["duration_ms"] as? Double ?? (session["duration_ms"] as? Int).map(Double.init))
        XCTAssertNotNil(session["time"] as? String)
        let refusal = try XCTUnwrap(objects.first { $0["event"] as? String == "refused" })
        XCTAssertEqual(refusal["status"] as? Int, 404)
        XCTAssertEqual(refusal["path"] as? String, "/nowhere")
        XCTAssertTrue(refusal["route"] is NSNull)
    }

    func testTextLinesAndReopenAfterRotation() async throws {
        let file = self.directory.appendingPathComponent("access.log")
        let rotated = self.directory.appendingPathComponent("access.log.1")
        let gateway = try await self.start(format: "text", file: file)
        try await self.traffic(gateway)
        let before = try await self.lines(file, count: 2)
        XCTAssertEqual(before.count, 2, "\(before)")
        let session = try XCTUnwrap(before.first { $0.contains("event=session") })
        for field in [
            "route=chat", "upstream=echo", "path=/chat/room", "messages_in=2", "bytes_out=10", "close_code=4000",
            "close_side=client",
        ] {
            XCTAssertTrue(session.contains(" " + field), "\(field) in \(session)")
        }
        XCTAssertTrue(before.contains { $0.contains("event=refused") && $0.contains("status=404") }, "\(before)")

        try FileManager.default.moveItem(at: file, to: rotated)
        try gateway.gateway.reopenAccessLog()
        try await self.traffic(gateway)
        let after = try await self.lines(file, count: 2)
        XCTAssertEqual(after.count, 2, "the new file has the new lines: \(after)")
        let old = try String(contentsOf: rotated, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(old.count, 2, "the rotated file got nothing more")
    }
}
