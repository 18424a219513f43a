import NIOWebSocket
import XCTest

@testable import WSGate

/// An upstream that breaks the protocol ends its client's session with a close frame, 1014, like every
/// other upstream violation: also when the violation is text that is not UTF-8 (issue 11, finding 7),
/// which is found only in the payload, after the frame's header was relayed.
final class UpstreamProtocolErrorTests: XCTestCase {
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.upstream = try await PeerProcess.pythonEchoServer()
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app: {endpoints: [127.0.0.1:\(self.upstream.port)]}
            routes:
              - {name: app, match: {path_prefix: /}, upstream: app}
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
    }

    func testTextThatIsNotUTF8FromTheUpstreamClosesTheClientWith1014() async throws {
        for path in ["/bad-text", "/bad-text-fragmented"] {
            let ws = try await TestWebSocketClient.connect(port: self.gateway.port, path: path).requireUpgraded()
            try await ws.sendText("go")
            var close: (code: UInt16?, reason: String)?
            // The fragmented case may deliver its valid first frame before the close.
            for _ in 0..<3 {
                let frame = try await ws.nextFrame(timeout: .seconds(5))
                if frame.opcode == .connectionClose {
                    close = TestWebSocketClient.parseClosePayload(frame.unmaskedData)
                    break
                }
            }
            XCTAssertEqual(close?.code, 1014, path)
            XCTAssertTrue(close?.reason.contains("upstream protocol error") ?? false, "\(path): \(String(describing: close))")
            try await ws.sendClose(code: 1000)
            try await ws.waitForTCPClose()
        }
    }
}
