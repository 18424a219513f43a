import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import XCTest

@testable import WSGate

/// `websocket-h2` against an HTTP/2 server we did not write: Python hypercorn (h2c with prior
/// knowledge, RFC 8441) running the ASGI echo app of Tests/Peers/h2_echo_server.py.
final class HypercornInteropTests: XCTestCase {
    private static let loops = 2
    private var group: MultiThreadedEventLoopGroup!
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: Self.loops)
        self.upstream = try await PeerProcess.start(
            name: "h2_echo_server.py",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [PeerProcess.python, "-u", PeerProcess.peerScript("h2_echo_server.py").path, "--port", "0"],
            currentDirectory: PeerProcess.repositoryRoot
        )
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app:
                protocol: websocket-h2
                endpoints: [127.0.0.1:\(self.upstream.port)]
                pool: {connections_per_loop: 1, max_connections_per_loop: 1, max_streams_per_connection: 1000}
            routes:
              - name: app
                match: {path_prefix: /}
                upstream: app
            """,
            group: self.group
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
        try await self.group.shutdownGracefully()
    }

    private func connect(_ path: String) async throws -> TestWebSocketClient {
        try await TestWebSocketClient.connect(port: self.gateway.port, path: path).requireUpgraded()
    }

    func testTwoHundredClientsOverAtMostOneConnectionPerLoop() async throws {
        let clients = 200
        let port = self.gateway.port
        let codes = try await withThrowingTaskGroup(of: UInt16?.self) { group in
            for index in 0..<clients {
                group.addTask {
                    let ws = try await TestWebSocketClient.connect(port: port, path: "/echo/\(index)").requireUpgraded()
                    let text = "message \(index) " + String(repeating: "é", count: index)
                    try await ws.sendText(text)
                    let echoed = try await ws.receiveText()
                    XCTAssertEqual(echoed, text)
                    let binary = (0..<(1000 + index * 100)).map { UInt8(truncatingIfNeeded: $0 &* (index + 1)) }
                    try await ws.sendBinary(binary)
                    let (opcode, data) = try await ws.receiveMessage()
                    XCTAssertEqual(opcode, .binary)
                    XCTAssertEqual(Array(data.readableBytesView), binary)
                    // Half the sessions are closed by the app, half by the client, each with its own code.
                    let code = UInt16(4000 + index)
                    if index.isMultiple(of: 2) {
                        try await ws.sendText("close:\(code)")
                    } else {
                        try await ws.sendClose(code: code)
                    }
                    let closed = try await ws.waitForClose()
                    XCTAssertEqual(closed.code, code)
                    await ws.close()
                    return closed.code
                }
            }
            var codes: [UInt16?] = []
            for try await code in group { codes.append(code) }
            return codes
        }
        XCTAssertEqual(Set(codes.compactMap { $0 }), Set((0..<clients).map { UInt16(4000 + $0) }))

        // The app counts the TCP connections its WebSockets came on (the /stats session included).
        let stats = try await self.connect("/stats")
        let json = try await stats.receiveText()
        await stats.close()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Int])
        XCTAssertEqual(object["websockets"], clients + 1)
        XCTAssertLessThanOrEqual(try XCTUnwrap(object["connections"]), Self.loops, "connections_per_loop × loops")

        let pool = await self.gateway.gateway.upstreamPoolStats()["app"]?.first
        XCTAssertLessThanOrEqual(pool?.connectionsOpen ?? 99, Self.loops)
        XCTAssertEqual(pool?.counters.streamsOpened, clients + 1)
    }

    /// HTTP/2 on both legs: a client's RFC 8441 WebSocket on a stream of its TLS connection (Python
    /// `h2`) is carried again as a stream of the pooled upstream connection to hypercorn.
    func testAClientStreamIsMultiplexedAgainTowardTheUpstream() async throws {
        let tls = try await GatewayHarness.start(
            """
            upstreams:
              app:
                protocol: websocket-h2
                endpoints: [127.0.0.1:\(self.upstream.port)]
            routes:
              - {name: app, match: {path_prefix: /}, upstream: app}
            """,
            tls: "{self_signed: true}",
            group: self.group
        )
        let result: [String: Any]
        do {
            result = try await runPythonPeer(
                "h2_client.py",
                args: ["\(tls.port)", "websocket", "/echo/h2", "--count", "20", "--size", "3000"],
                timeout: .seconds(60)
            )
        } catch {
            await tls.stop()
            throw error
        }
        let stats = try await AdminHTTP.get(port: tls.adminPort, "/stats").json()
        await tls.stop()
        XCTAssertEqual(result["ok"] as? Bool, true, "echoed, then closed 1000: \(result)")
        XCTAssertEqual(result["alpn"] as? String, "h2")
        let protocols = stats["client_protocols"] as? [String: Any]
        XCTAssertEqual((protocols?["h2"] as? [String: Any])?["websocket_streams"] as? Int, 1, "\(stats)")
    }

    func testAppClosingAtOnceRelaysItsCode() async throws {
        let ws = try await self.connect("/close/4321")
        let closed = try await ws.waitForClose()
        XCTAssertEqual(closed.code, 4321)
    }
}
