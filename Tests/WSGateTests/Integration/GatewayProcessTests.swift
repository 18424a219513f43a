import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The real `wsgate` process: SIGHUP and file-watch reloads, SIGUSR1 reopening the access log,
/// graceful shutdown on SIGTERM (close 1001 to both legs, exit 0), and a second signal that exits at once.
final class GatewayProcessTests: XCTestCase {
    private var gateway: GatewayProcess?
    private var upstream: PeerProcess?

    override func tearDown() async throws {
        self.gateway?.stop()
        self.upstream?.stop()
    }

    private static func config(
        listeners: [(String, String)] = [("public", "127.0.0.1:0")],
        route: String,
        extra: String = ""
    ) -> String {
        let items = listeners.map { "  - name: \($0.0)\n    address: \($0.1)\n" }.joined()
        return """
            listeners:
            \(items)admin:
              address: 127.0.0.1:0
            upstreams:
              echo: {protocol: echo}
            routes:
              - match: {path: \(route)}
                upstream: echo
            \(extra)
            """
    }

    func testSIGUSR1ReopensTheAccessLogAfterARotation() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-sigusr1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("access.log")
        let rotated = directory.appendingPathComponent("access.log.1")
        let gateway = try await GatewayProcess.start(
            Self.config(route: "/a", extra: "log: {access: {format: text, destination: \"\(file.path)\"}}")
        )
        self.gateway = gateway
        let port = gateway.port("public")
        func lines(_ url: URL) -> [Substring] {
            ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n")
        }
        func refusedRequest() async throws {
            let refused = try await TestWebSocketClient.connect(port: port, path: "/nowhere")
            XCTAssertEqual(refused.status, 404)
        }
        try await refusedRequest()
        for _ in 0..<100 where lines(file).isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        XCTAssertEqual(lines(file).count, 1)

        // A rotation moves the file; SIGUSR1 makes the gateway open a new one at the same path. The
        // signal is handled asynchronously: refused requests until the new file gets a line (bounded).
        try FileManager.default.moveItem(at: file, to: rotated)
        gateway.signal(SIGUSR1)
        for _ in 0..<100 where lines(file).isEmpty {
            try await refusedRequest()
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertFalse(lines(file).isEmpty, "the new file gets the lines after SIGUSR1")
        XCTAssertTrue(lines(file).allSatisfy { $0.contains("event=refused") })
        XCTAssertGreaterThanOrEqual(lines(rotated).count, 1, "the rotated file keeps what it had")
    }

    func testSIGHUPReloadsRoutesAndListenersWhileTheSessionKeepsRunning() async throws {
        let gateway = try await GatewayProcess.start(Self.config(route: "/a"))
        self.gateway = gateway
        let port = gateway.port("public")
        let session = try await TestWebSocketClient.connect(port: port, path: "/a").requireUpgraded()
        try await session.sendText("before")
        let before = try await session.receiveText()
        XCTAssertEqual(before, "before")

        let mark = gateway.lineCount
        try Self.config(listeners: [("public", "127.0.0.1:0"), ("extra", "127.0.0.1:0")], route: "/b")
            .write(to: gateway.configFile, atomically: true, encoding: .utf8)
        gateway.signal(SIGHUP)
        _ = try await gateway.waitForLine(after: mark) { $0.hasSuffix("configuration reloaded; new connections use it") }

        let removed = try await TestWebSocketClient.connect(port: port, path: "/a")
        XCTAssertEqual(removed.status, 404)
        let added = try await TestWebSocketClient.connect(port: gateway.port("extra"), path: "/b").requireUpgraded()
        try await added.sendText("on the added listener")
        let reply = try await added.receiveText()
        XCTAssertEqual(reply, "on the added listener")
        XCTAssertEqual(gateway.port("public"), port)
        try await session.sendText("after")
        let after = try await session.receiveText()
        XCTAssertEqual(after, "after")
        await added.close()
        await session.close()
    }

    func testAWatchedFileIsReloadedWhenItChanges() async throws {
        let watch = "reload: {watch_interval: 100ms}"
        let gateway = try await GatewayProcess.start(Self.config(route: "/a", extra: watch))
        self.gateway = gateway
        let mark = gateway.lineCount
        try Self.config(route: "/bb", extra: watch).write(to: gateway.configFile, atomically: true, encoding: .utf8)
        _ = try await gateway.waitForLine(after: mark) { $0.hasSuffix("configuration reloaded; new connections use it") }
        let added = try await TestWebSocketClient.connect(port: gateway.port("public"), path: "/bb")
        XCTAssertEqual(added.status, 101)
        try? await added.requireUpgraded().close()
    }

    func testSIGTERMDrainsThenSends1001ToClientAndUpstreamAndExitsZero() async throws {
        let upstream = try await PeerProcess.pythonEchoServer()
        self.upstream = upstream
        let gateway = try await GatewayProcess.start(
            """
            listeners:
              - name: public
                address: 127.0.0.1:0
            admin:
              address: 127.0.0.1:0
            upstreams:
              py:
                endpoints: [127.0.0.1:\(upstream.port)]
            routes:
              - match: {path: /record-close}
                upstream: py
            shutdown: {grace: 2s, timeout: 5s}
            """
        )
        self.gateway = gateway
        let port = gateway.port("public")
        let session = try await TestWebSocketClient.connect(port: port, path: "/record-close").requireUpgraded()
        try await session.sendText("before")
        let before = try await session.receiveText()
        XCTAssertEqual(before, "before")

        let stopping = ContinuousClock.now
        gateway.signal(SIGTERM)
        _ = try await gateway.waitForLine { $0.contains("draining: listeners closed") }
        // The grace period: the listener is closed, the admin listener answers, traffic flows.
        let refused = await isRefused(port: port)
        XCTAssertTrue(refused, "the listener still accepts while draining")
        let health = try await TestWebSocketClient.rawHTTPRequest(
            port: gateway.port("admin"),
            request: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        XCTAssertTrue(health.hasPrefix("HTTP/1.1 200"), health)
        let reload = try await TestWebSocketClient.rawHTTPRequest(
            port: gateway.port("admin"),
            request:
                "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-WSGate-Admin: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        XCTAssertTrue(reload.hasPrefix("HTTP/1.1 503"), "no reload while shutting down: \(reload)")
        try await session.sendText("in flight")
        let inFlight = try await session.receiveText()
        XCTAssertEqual(inFlight, "in flight")

        let close = try await session.waitForClose(timeout: .seconds(10))
        XCTAssertEqual(close.code, 1001)
        XCTAssertEqual(close.reason, "gateway shutting down")
        let status = try await gateway.waitForExit(timeout: .seconds(10))
        XCTAssertEqual(status, 0, gateway.log)
        XCTAssertLessThan(ContinuousClock.now - stopping, .seconds(2 + 5), "exited within grace + timeout")
        XCTAssertTrue(gateway.log.contains("drained: no session left"), gateway.log)

        // The upstream received the gateway's close frame.
        let probe = try await TestWebSocketClient.connect(port: upstream.port, path: "/last-close").requireUpgraded()
        let lastClose = try await probe.receiveText()
        XCTAssertEqual(lastClose, "1001 gateway shutting down")
        await probe.close()
    }

    func testASecondSignalExitsAtOnce() async throws {
        let gateway = try await GatewayProcess.start(Self.config(route: "/a", extra: "shutdown: {grace: 60s, timeout: 60s}"))
        self.gateway = gateway
        let session = try await TestWebSocketClient.connect(port: gateway.port("public"), path: "/a").requireUpgraded()
        gateway.signal(SIGTERM)
        _ = try await gateway.waitForLine { $0.contains("draining: listeners closed") }
        let started = ContinuousClock.now
        gateway.signal(SIGINT)
        let status = try await gateway.waitForExit(timeout: .seconds(10))
        XCTAssertEqual(status, 128 + SIGINT, gateway.log)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
        try await session.waitForTCPClose()
    }
}
