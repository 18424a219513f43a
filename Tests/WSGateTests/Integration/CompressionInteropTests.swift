import Foundation
import XCTest

@testable import WSGate

/// permessage-deflate terminated by the real gateway, with clients we did not write (Python
/// `websockets`, Node `ws` from Debian's node-ws) in both memory modes, over a plain upstream leg.
final class CompressionInteropTests: XCTestCase {
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.upstream = try await PeerProcess.pythonEchoServer()
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              py:
                endpoints: [127.0.0.1:\(self.upstream.port)]
            routes:
              - name: dedicated
                match: {path_prefix: /dedicated/}
                upstream: py
                rewrite_prefix: /
              - name: shared
                match: {path_prefix: /shared/}
                upstream: py
                rewrite_prefix: /
                compression: {context_takeover: false, server_max_window_bits: 12, mem_level: 6}
              - name: off
                match: {path_prefix: /off/}
                upstream: py
                rewrite_prefix: /
                compression: {enabled: false}
            defaults:
              limits: {max_message: 32MiB}
              compression: {min_size: 16}
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
    }

    private var url: String { "ws://127.0.0.1:\(self.gateway.port)" }
    private let sizes = "0,1,125,126,65535,65536,1048576,16777216"

    func testPythonClientWithContextTakeover() async throws {
        let result = try await runPythonClient(
            args: ["echo", "\(self.url)/dedicated/echo", "--compression", "--sizes", self.sizes, "--timeout", "120"],
            timeout: .seconds(400)
        )
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        XCTAssertEqual(result["messages"] as? Int, 16)
        XCTAssertEqual(result["extensions"] as? String, "permessage-deflate")
    }

    func testPythonClientWithSharedStreamsAndFragments() async throws {
        let result = try await runPythonClient(
            args: [
                "echo", "\(self.url)/shared/echo", "--compression", "--sizes", self.sizes, "--fragment-size", "100000",
                "--timeout", "120",
            ],
            timeout: .seconds(400)
        )
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        XCTAssertEqual(result["messages"] as? Int, 16)
        XCTAssertEqual(
            result["extensions"] as? String,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        )
    }

    func testPythonClientAskingForNoContextTakeover() async throws {
        let result = try await runPythonClient(args: [
            "echo", "\(self.url)/dedicated/echo", "--compression", "--no-context-takeover", "--sizes", "0,200,70000",
            "--fragment-size", "1000",
        ])
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        XCTAssertEqual(
            result["extensions"] as? String,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        )
    }

    func testNodeClientWithContextTakeover() async throws {
        let result = try await runNodeClient(
            args: ["\(self.url)/dedicated/echo", "--sizes", self.sizes, "--timeout", "300"],
            timeout: .seconds(400)
        )
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        XCTAssertEqual(result["messages"] as? Int, 16)
        XCTAssertEqual(result["extensions"] as? String, "permessage-deflate")
    }

    func testNodeClientWithSharedStreams() async throws {
        let result = try await runNodeClient(args: ["\(self.url)/shared/echo", "--sizes", "0,1,125,126,65535,65536,1048576"])
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        XCTAssertEqual(result["messages"] as? Int, 14)
        XCTAssertEqual(
            result["extensions"] as? String,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        )
    }

    func testNodeClientAskingForNoContextTakeover() async throws {
        let result = try await runNodeClient(args: [
            "\(self.url)/dedicated/echo", "--sizes", "0,1,300,70000", "--no-context-takeover",
        ])
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        XCTAssertEqual(
            result["extensions"] as? String,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        )
    }

    /// The upstream leg is plain: the upstream saw no extension header (and echoes, above, of
    /// compressed client messages through an uncompressed upstream prove its bytes are plain).
    func testUpstreamNeverSeesTheExtension() async throws {
        for path in ["/dedicated/headers", "/shared/headers"] {
            let result = try await runPythonClient(args: ["first", "\(self.url)\(path)", "--compression"])
            XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
            let text = try XCTUnwrap(result["message"] as? String)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let headers = try XCTUnwrap(object["headers"] as? [[String]])
            XCTAssertFalse(headers.contains { $0.first?.lowercased() == "sec-websocket-extensions" }, "\(headers)")
        }
    }

    func testDisabledRouteDeclinesCompression() async throws {
        let result = try await runPythonClient(args: ["echo", "\(self.url)/off/echo", "--compression", "--sizes", "0,1000"])
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        XCTAssertNil(result["extensions"] as? String)
    }
}

/// Runs Tests/Peers/ws_node_client.js with Node and Debian's `ws` (/usr/share/nodejs) and returns its JSON line.
func runNodeClient(args: [String], timeout: Duration = .seconds(120)) async throws -> [String: Any] {
    try await runJSONPeer(
        "ws_node_client.js",
        command: ["NODE_PATH=/usr/share/nodejs", "node", PeerProcess.peerScript("ws_node_client.js").path] + args,
        timeout: timeout
    )
}
