import NIOCore
import NIOPosix
import XCTest

@testable import WSGate

/// What a client gets when the upstream fails it: the next endpoint when one is unreachable, 504
/// when the upstream accepts the connection and never answers the upgrade.
final class UpstreamFailureTests: XCTestCase {
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!
    /// Accepts connections and never reads or answers: an upstream that hangs.
    private var silentUpstream: (any Channel)!

    override func setUp() async throws {
        self.upstream = try await PeerProcess.pythonEchoServer()
        self.silentUpstream = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0).get()
        let silentPort = try XCTUnwrap(self.silentUpstream.localAddress?.port)
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              failover: {endpoints: [127.0.0.1:1, 127.0.0.1:\(self.upstream.port)], connect_timeout: 5s}
              hanging: {endpoints: [127.0.0.1:\(silentPort)], connect_timeout: 30s}
            routes:
              - {name: failover, match: {path_prefix: /failover}, upstream: failover}
              - {name: hanging, match: {path_prefix: /hanging}, upstream: hanging}
            defaults: {limits: {handshake_timeout: 500ms}}
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        try? await self.silentUpstream?.close()
        self.upstream?.stop()
    }

    func testUnreachableEndpointPassesTheSessionToTheNext() async throws {
        // Round robin starts each session at another endpoint: over three, one starts at the dead one.
        for index in 0..<3 {
            let ws = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/failover").requireUpgraded()
            try await ws.sendText("session \(index)")
            let echoed = try await ws.receiveText()
            XCTAssertEqual(echoed, "session \(index)")
            await ws.close()
        }
        let stats = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
        XCTAssertGreaterThanOrEqual(stats.int("upstreams.failover.connect_failures.unreachable") ?? 0, 1, "\(stats["upstreams"] ?? "")")
    }

    func testUpstreamThatNeverAnswersGets504AtTheHandshakeTimeout() async throws {
        let started = ContinuousClock.now
        let result = try await TestWebSocketClient.connect(port: self.gateway.port, path: "/hanging")
        guard case .refused(let status, _, let body) = result else { return XCTFail("expected a refusal") }
        XCTAssertEqual(status, 504, body)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "answered at handshake_timeout, not connect_timeout")
    }
}
