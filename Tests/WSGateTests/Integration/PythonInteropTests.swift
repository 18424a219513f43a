import XCTest

@testable import WSGate

/// A client and an upstream we did not write (Python `websockets`) talking through the real gateway.
final class PythonInteropTests: XCTestCase {
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
              - match: {path_prefix: /}
                upstream: py
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
    }

    private var url: String { "ws://127.0.0.1:\(self.gateway.port)" }

    func testMessagesFromEmptyTo16MiBRoundTrip() async throws {
        let result = try await runPythonClient(args: [
            "echo", "\(self.url)/echo", "--sizes", "0,1,125,126,65535,65536,1048576,16777216",
        ])
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        XCTAssertEqual(result["ok"] as? Bool, true)
        XCTAssertEqual(result["messages"] as? Int, 16)
    }

    func testFragmentedMessagesRoundTrip() async throws {
        let result = try await runPythonClient(args: [
            "echo", "\(self.url)/echo", "--sizes", "0,1,4097,1048576", "--fragment-size", "1000",
        ])
        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        XCTAssertEqual(result["messages"] as? Int, 8)
    }

    func testUpstreamCloseCodeIsRelayed() async throws {
        let result = try await runPythonClient(args: ["close", "\(self.url)/close/4003"])
        XCTAssertEqual(result["close_code"] as? Int, 4003, "\(result)")
        XCTAssertEqual(result["close_reason"] as? String, "bye")
    }

    func testUpstreamRefusalStatusIsRelayed() async throws {
        let result = try await runPythonClient(args: ["handshake", "\(self.url)/reject/401"])
        XCTAssertEqual(result["status"] as? Int, 401, "\(result)")
    }

    func testSubprotocolNegotiatedByUpstream() async throws {
        let result = try await runPythonClient(args: [
            "handshake", "\(self.url)/echo", "--subprotocol", "one", "--subprotocol", "two",
        ])
        XCTAssertEqual(result["status"] as? Int, 101, "\(result)")
        XCTAssertEqual(result["subprotocol"] as? String, "two")
    }
}
