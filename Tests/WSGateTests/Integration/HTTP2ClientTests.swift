import Foundation
import XCTest

@testable import WSGate

/// HTTP/2 from clients on a real TLS listener (ALPN h2), against clients we did not write: curl and
/// nghttp (nghttp2) for requests, Python `h2` (Tests/Peers/h2_client.py) for requests, RFC 8441
/// WebSockets and the hostile peers: a stalled stream beside a flowing one, a reset mid-message, a
/// client that ignores flow control, a rapid-reset burst, a plain CONNECT, and the GOAWAY drain.
final class HTTP2ClientTests: XCTestCase {
    private var app: PeerProcess!
    private var gateway: GatewayHarness!
    private var accessLog: URL!
    private var reloadable: ReloadableGateway?

    override func setUp() async throws {
        self.app = try await PeerProcess.start(
            name: "http_app.py",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [PeerProcess.python, "-u", PeerProcess.peerScript("http_app.py").path, "--port", "0"],
            currentDirectory: PeerProcess.repositoryRoot
        )
        self.accessLog = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-h2-\(UUID().uuidString).log")
        self.gateway = try await self.startGateway()
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        await self.reloadable?.stop()
        self.app?.stop()
        if let accessLog = self.accessLog { try? FileManager.default.removeItem(at: accessLog) }
    }

    private func startGateway(http2: String = "{enabled: true}", limits: String = "") async throws -> GatewayHarness {
        try await GatewayHarness.start(
            """
            upstreams:
              echo: {protocol: echo}
              app: {endpoints: [127.0.0.1:\(self.app.port)]}
            routes:
              - {name: ws, match: {path_prefix: /echo}, upstream: echo}
              - {name: app, upstream: app}
            defaults:
              limits: {handshake_timeout: 5s}
            shutdown: {grace: 0s, timeout: 5s}
            log:
              access: {format: json, destination: \(self.accessLog.path)}
            \(limits)
            """,
            tls: "{self_signed: true}" + (http2.isEmpty ? "" : "\n    http2: \(http2)")
        )
    }

    private func h2(_ scenario: String, _ path: String, _ extra: [String] = []) async throws -> [String: Any] {
        try await runPythonPeer("h2_client.py", args: ["\(self.gateway.port)", scenario, path] + extra, timeout: .seconds(60))
    }

    private func stats() async throws -> [String: Any] {
        try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
    }

    private func protocols() async throws -> (http1: [String: Any], h2: [String: Any]) {
        let stats = try await self.stats()
        let protocols = try XCTUnwrap(stats["client_protocols"] as? [String: Any])
        return (try XCTUnwrap(protocols["http/1.1"] as? [String: Any]), try XCTUnwrap(protocols["h2"] as? [String: Any]))
    }

    // MARK: Requests

    func testRequestsOverHTTP2WithCurlNghttpAndPythonH2() async throws {
        let curl = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [
                "curl", "-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code} %{size_download}",
                "https://localhost:\(self.gateway.port)/download?size=300000",
            ],
            currentDirectory: PeerProcess.repositoryRoot,
            timeout: .seconds(30)
        )
        XCTAssertEqual(curl.stdout, "2 200 300000", curl.stderr)

        let nghttp = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: ["nghttp", "-s", "https://localhost:\(self.gateway.port)/json", "https://localhost:\(self.gateway.port)/"],
            currentDirectory: PeerProcess.repositoryRoot,
            timeout: .seconds(30)
        )
        XCTAssertEqual(nghttp.status, 0, nghttp.stdout + nghttp.stderr)

        let python = try await self.h2("request", "/json")
        XCTAssertEqual(python["alpn"] as? String, "h2", "\(python)")
        XCTAssertEqual(python["enable_connect_protocol"] as? Int, 1, "RFC 8441 section 3: announced in the first SETTINGS")
        XCTAssertEqual(python["status"] as? String, "200", "\(python)")
        let headers = try XCTUnwrap(python["headers"] as? [String: Any])
        XCTAssertNil(headers["connection"], "no HTTP/1 connection fields toward an HTTP/2 client")
        XCTAssertNil(headers["transfer-encoding"])
        XCTAssertTrue((python["body"] as? String)?.contains("\"path\": \"/json\"") ?? false, "\(python)")

        let (http1, h2) = try await self.protocols()
        XCTAssertEqual((h2["connections"] as? [String: Any])?["opened"] as? Int, 3, "\(h2)")
        XCTAssertGreaterThanOrEqual((h2["streams"] as? [String: Any])?["opened"] as? Int ?? 0, 4, "\(h2)")
        XCTAssertEqual((http1["connections"] as? [String: Any])?["opened"] as? Int, 0, "\(http1)")
    }

    func testHTTP1StillServedWhenTheClientOffersOnlyHTTP1() async throws {
        let curl = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: ["curl", "-sk", "--http1.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "https://localhost:\(self.gateway.port)/json"],
            currentDirectory: PeerProcess.repositoryRoot,
            timeout: .seconds(30)
        )
        XCTAssertEqual(curl.stdout, "1.1 200", curl.stderr)
        let (http1, _) = try await self.protocols()
        XCTAssertEqual((http1["connections"] as? [String: Any])?["opened"] as? Int, 1, "\(http1)")
    }

    func testHTTP2SwitchedOffOffersOnlyHTTP1() async throws {
        await self.gateway.stop()
        self.gateway = try await self.startGateway(http2: "{enabled: false}")
        let python = try await self.h2("request", "/json")
        XCTAssertEqual(python["ok"] as? Bool, false, "no h2 without ALPN h2: \(python)")
        let curl = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: ["curl", "-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version}", "https://localhost:\(self.gateway.port)/json"],
            currentDirectory: PeerProcess.repositoryRoot,
            timeout: .seconds(30)
        )
        XCTAssertEqual(curl.stdout, "1.1", curl.stderr)
    }

    func testPlainConnectIs501() async throws {
        let result = try await self.h2("plain-connect", "db.internal:5432")
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
    }

    // MARK: WebSockets over streams

    func testExtendedConnectWebSocketEchoesWithPermessageDeflate() async throws {
        let result = try await self.h2("websocket", "/echo", ["--deflate", "--count", "20", "--size", "4000"])
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
        XCTAssertEqual(result["status"] as? String, "200")
        XCTAssertTrue(result["accept"] is NSNull, "RFC 8441: no Sec-WebSocket-Accept")
        XCTAssertEqual((result["extensions"] as? String)?.hasPrefix("permessage-deflate"), true, "\(result)")
        XCTAssertEqual(result["compressed"] as? Int, 20, "the echoes came compressed")
        let (_, h2) = try await self.protocols()
        XCTAssertEqual(h2["websocket_streams"] as? Int, 1, "\(h2)")
        let session = try await self.sessionLogLine()
        XCTAssertEqual(session["client_protocol"] as? String, "h2", "\(session)")
        XCTAssertEqual(session["compression"] as? Bool, true)
        XCTAssertEqual(session["route"] as? String, "ws")
    }

    /// The access log's first session line.
    private func sessionLogLine() async throws -> [String: Any] {
        for _ in 0..<400 {
            self.gateway.gateway.services.accessLog?.flush()
            let text = (try? String(contentsOf: self.accessLog, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    object["event"] as? String == "session"
                {
                    return object
                }
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw PeerProcessError.timeout("a session line in the access log")
    }

    func testAStalledStreamDoesNotStopItsNeighbour() async throws {
        let result = try await self.h2("stalled", "/echo", ["--count", "40"])
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
        XCTAssertEqual(result["flowing_echoed"] as? Int, 50)
    }

    func testAResetMidMessageEndsThatStreamOnly() async throws {
        let result = try await self.h2("reset", "/echo")
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
        XCTAssertEqual(result["second_status"] as? String, "200")
    }

    func testAClientThatIgnoresFlowControlIsStopped() async throws {
        let result = try await self.h2("overflow", "/echo", ["--count", "2000"])
        XCTAssertEqual(result["ok"] as? Bool, true, "FLOW_CONTROL_ERROR on the stream or the connection: \(result)")
        let after = try await self.h2("websocket", "/echo")
        XCTAssertEqual(after["ok"] as? Bool, true, "other connections are unaffected: \(after)")
    }

    func testARapidResetBurstClosesThatConnectionOnly() async throws {
        let result = try await self.h2("rapid-reset", "/json", ["--count", "1000"])
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
        let after = try await self.h2("request", "/json")
        XCTAssertEqual(after["status"] as? String, "200", "\(after)")
        let (_, h2) = try await self.protocols()
        XCTAssertGreaterThanOrEqual(h2["connection_errors"] as? Int ?? 0, 1, "\(h2)")
    }

    // MARK: The stream-side limits and their worst peers

    /// A client that gives its streams no flow-control window cannot take a refusal's body: the
    /// refused stream must still end (the answer's close deadline), not stay open for ever.
    func testAStreamRefusedToAClientThatGivesNoWindowStillEnds() async throws {
        let result = try await self.h2("zero-window", "/echo", ["--window", "0"])
        XCTAssertEqual(result["ok"] as? Bool, true, "426 in HEADERS, then the stream ends: \(result)")
    }

    func testAHostThatIsNotTheAuthorityIs400() async throws {
        let result = try await self.h2("authority-mismatch", "/echo")
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
    }

    /// `max_connections_per_ip: 3`: the HTTP/2 connection is one, each WebSocket stream on it one more,
    /// as each would be an HTTP/1.1 connection of its own.
    func testWebSocketStreamsCountAsConnectionsOfTheirIP() async throws {
        await self.gateway.stop()
        self.gateway = try await self.startGateway(limits: "limits: {max_connections_per_ip: 3}")
        let result = try await self.h2("streams", "/echo", ["--count", "3"])
        XCTAssertEqual(result["statuses"] as? [String], ["200", "200", "503"], "\(result)")
    }

    /// A reload reaches the new streams of a connection accepted before it: the removed route is 404
    /// there, the added one is served, and the WebSocket already open keeps echoing.
    func testAReloadReachesNewStreamsOfAnOpenConnection() async throws {
        let routes = { (name: String) in
            "upstreams:\n  echo: {protocol: echo}\nroutes:\n  - name: \(name)\n    match: {path: /\(name)}\n    upstream: echo\n"
        }
        let reloadable = try await ReloadableGateway.start(listeners: .public, routes("a"), tls: ["public": "{self_signed: true}"])
        self.reloadable = reloadable
        try reloadable.write(listeners: .public, routes("b"), tls: ["public": "{self_signed: true}"])
        let result = try await runPythonPeer(
            "h2_client.py",
            args: ["\(reloadable.port("public"))", "reload", "/a", "--after", "/b", "--admin-port", "\(reloadable.adminPort)"],
            timeout: .seconds(60)
        )
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
        XCTAssertEqual(result["first_status"] as? String, "200", "\(result)")
        XCTAssertEqual(result["old_path_status"] as? String, "404", "\(result)")
        XCTAssertEqual(result["new_path_status"] as? String, "200", "\(result)")
        XCTAssertEqual(result["new_path_echoed"] as? Bool, true, "\(result)")
    }

    // MARK: A browser

    /// Chromium loads a page over h2 and opens a `wss://` WebSocket on that connection as an RFC 8441
    /// stream, with permessage-deflate; with HTTP/2 off in the browser, the same over HTTP/1.1.
    func testChromiumOpensItsWebSocketAsAStreamOfThePageConnection() async throws {
        let page = "https://localhost:\(self.gateway.port)/"
        let socket = "wss://localhost:\(self.gateway.port)/echo"
        let h2 = try await runPythonPeer("h2_browser.py", args: [page, socket], timeout: .seconds(90))
        XCTAssertEqual(h2["ok"] as? Bool, true, "\(h2)")
        XCTAssertEqual(h2["page_protocol"] as? String, "h2", "\(h2)")
        XCTAssertEqual((h2["extensions"] as? String)?.hasPrefix("permessage-deflate"), true, "\(h2)")
        let (http1, streams) = try await self.protocols()
        XCTAssertEqual(streams["websocket_streams"] as? Int, 1, "the socket rode an HTTP/2 stream: \(streams)")
        XCTAssertEqual((http1["connections"] as? [String: Any])?["opened"] as? Int, 0, "no HTTP/1.1 connection: \(http1)")
        let session = try await self.sessionLogLine()
        XCTAssertEqual(session["client_protocol"] as? String, "h2", "\(session)")

        let http1Only = try await runPythonPeer("h2_browser.py", args: [page, socket, "--http1"], timeout: .seconds(90))
        XCTAssertEqual(http1Only["ok"] as? Bool, true, "\(http1Only)")
        XCTAssertEqual(http1Only["page_protocol"] as? String, "http/1.1", "\(http1Only)")
        XCTAssertEqual((http1Only["extensions"] as? String)?.hasPrefix("permessage-deflate"), true)
        let (after, _) = try await self.protocols()
        XCTAssertGreaterThanOrEqual((after["connections"] as? [String: Any])?["opened"] as? Int ?? 0, 1, "\(after)")
    }

    func testGracefulDrainSendsGOAWAYThen1001() async throws {
        let port = self.gateway.port
        let peer = Task { () -> (ok: Bool, text: String) in
            let result = try await runPythonPeer("h2_client.py", args: ["\(port)", "drain", "/echo", "--wait", "30"], timeout: .seconds(60))
            return (result["ok"] as? Bool ?? false, "\(result)")
        }
        var opened = false
        for _ in 0..<200 where !opened {
            let connections = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats/connections").json()
            opened = (connections["count"] as? Int ?? 0) > 0
            if !opened { try await Task.sleep(for: .milliseconds(50)) }
        }
        XCTAssertTrue(opened, "the WebSocket never opened")
        let connections = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats/connections").json()
        let list = try XCTUnwrap(connections["connections"] as? [[String: Any]])
        XCTAssertEqual(list.first?["client_protocol"] as? String, "h2", "\(list)")
        await self.gateway.gateway.drain()
        let result = try await peer.value
        XCTAssertTrue(result.ok, "GOAWAY (NO_ERROR), then close 1001: \(result.text)")
    }
}
