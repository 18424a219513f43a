import Foundation
import XCTest

@testable import WSGate

/// The chat example (examples/chat: an aiohttp app we did not write the framework of, fronted by
/// examples/chat/wsgate.yaml) in headless Chromium driven by Playwright (Tests/Peers/chat_browser.py):
/// two pages load the chat over `https://` on the gateway, each opens its WebSocket through the same
/// origin, and a message typed into the first appears in the second page's DOM.
final class ChatExampleTests: XCTestCase {
    private static let example = PeerProcess.repositoryRoot.appendingPathComponent("examples/chat")

    /// The example's configuration with the kernel's choice of ports for the listener and the admin
    /// listener, and the app's port.
    private static func configuration(appPort: Int) throws -> String {
        let text = try String(contentsOf: self.example.appendingPathComponent("wsgate.yaml"), encoding: .utf8)
        let replaced =
            text
            .replacingOccurrences(of: "127.0.0.1:8443", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:9901", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:8000", with: "127.0.0.1:\(appPort)")
        XCTAssertNotEqual(replaced, text)
        return replaced
    }

    func testTheExampleConfigurationFrontsTheAppWithTLSAndCompressionOnOneRoute() throws {
        let configuration = try GatewayConfiguration.parse(yaml: try Self.configuration(appPort: 8000), file: "wsgate.yaml")
        XCTAssertEqual(configuration.listeners.map(\.name), ["public"])
        XCTAssertNotNil(configuration.listeners[0].tls, "the listener terminates TLS")
        XCTAssertEqual(configuration.routes.map(\.name), ["chat"], "one route")
        XCTAssertEqual(configuration.routes[0].serves, .both, "HTTP and WebSocket on it")
        XCTAssertTrue(configuration.routes[0].compression.enabled, "permessage-deflate on the route")
        XCTAssertEqual(configuration.upstreams["chat"]?.protocol, .websocket, "an app serving HTTP and WebSockets")
    }

    func testAMessagePostedOnOnePageArrivesOnAnotherThroughTheGateway() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                return XCTFail("chromium is not installed (apt-get install chromium; .ci/run does)")
            }
            throw XCTSkip("chromium is not installed (apt-get install chromium)")
        }
        let app = try await PeerProcess.start(
            name: "examples/chat/app.py",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [PeerProcess.python, "-u", Self.example.appendingPathComponent("app.py").path, "--port", "0"],
            currentDirectory: PeerProcess.repositoryRoot
        )
        defer { app.stop() }
        let gateway = try await GatewayHarness.start(file: try Self.configuration(appPort: app.port), name: "wsgate.yaml")
        let origin = "https://127.0.0.1:\(gateway.port)"

        let result = try await runPythonPeer(
            "chat_browser.py",
            args: [origin + "/", "--room", "general"],
            timeout: .seconds(150)
        )
        let description = "\(result) app stderr: \(app.stderrText)"
        XCTAssertEqual(result["exit_code"] as? Int, 0, description)
        let received = try XCTUnwrap(result["received"] as? String, description)
        XCTAssertTrue(received.hasPrefix("hello from the first page"), description)
        XCTAssertEqual(result["received_user"] as? String, "alice", description)
        XCTAssertTrue((result["history"] as? [String] ?? []).contains(received), "a late page reads it from the REST history")
        let sockets = try XCTUnwrap(result["websockets"] as? [String], description)
        XCTAssertEqual(sockets.count, 3, description)
        XCTAssertTrue(
            sockets.allSatisfy { $0 == "wss://127.0.0.1:\(gateway.port)/ws/general" },
            "every page opened its WebSocket through the page's own origin: \(sockets)"
        )

        XCTAssertEqual(result["event"] as? String, received, "the receiver's EventSource got it too (SSE through the gateway)")

        // The three WebSockets went through the gateway's one route, compressed toward Chromium, and
        // so did the pages, scripts and REST calls (3 pages × page, script, style, rooms, history).
        let stats = try await AdminHTTP.get(port: gateway.adminPort, "/stats").json()
        XCTAssertGreaterThanOrEqual(stats.int("routes.chat.http.requests.2xx") ?? 0, 15, "\(stats)")
        XCTAssertNil(stats.int("routes.chat.http.requests.5xx"), "no 5xx: \(stats)")
        XCTAssertEqual(stats.int("routes.chat.connections.total"), 3, "\(stats)")
        XCTAssertEqual(stats.int("routes.chat.compression.connections"), 3, "Chromium negotiated permessage-deflate")
        XCTAssertGreaterThanOrEqual(
            stats.int("routes.chat.messages.upstream_to_client") ?? 0,
            2,
            "the message reached both live pages"
        )
        await gateway.stop()
    }
}
