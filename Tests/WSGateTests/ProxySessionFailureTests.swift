import NIOCore
import NIOEmbedded
import NIOWebSocket
import XCTest

@testable import WSGate

/// How a session reads the reason a leg failed: who ended it, which limit was hit, what the other leg hears.
/// Both legs are endpoints on EmbeddedChannels of one loop, with the session between them.
final class ProxySessionFailureTests: XCTestCase {
    private let loop = EmbeddedEventLoop()
    private let allocator = ByteBufferAllocator()
    private var counters: RouteCounters!
    private var session: ProxySession!
    private var client: EmbeddedChannel!
    private var upstream: EmbeddedChannel!

    override func setUpWithError() throws {
        let route = RouteConfiguration(name: "r", upstream: "up")
        let environment = SessionEnvironment.standalone()
        self.counters = environment.stats.route("r")
        self.session = ProxySession(
            identity: SessionIdentity(
                id: 1,
                route: "r",
                clientAddress: nil,
                upstreamEndpoint: "up",
                path: "/",
                subprotocol: nil,
                compressed: false,
                started: .now()
            ),
            eventLoop: self.loop,
            route: route,
            environment: environment
        )
        let endpoint = WebSocketEndpointConfiguration(
            maxFrameSize: 100,
            maxMessageSize: 100,
            pingInterval: nil,
            closeTimeout: .seconds(5)
        )
        self.client = EmbeddedChannel(loop: self.loop)
        try self.client.pipeline.syncOperations.addHandlers([
            WebSocketEndpointHandler(role: .server, configuration: endpoint),
            ProxyLegHandler(leg: .client, session: self.session),
        ])
        self.upstream = EmbeddedChannel(loop: self.loop)
        try self.upstream.pipeline.syncOperations.addHandlers([
            WebSocketEndpointHandler(role: .client, configuration: endpoint),
            ProxyLegHandler(leg: .upstream, session: self.session),
        ])
        try self.client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try self.upstream.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
    }

    override func tearDown() {
        _ = try? self.client.finish()
        _ = try? self.upstream.finish()
    }

    /// A frame header as a client sends it (masked); `length` is what it announces.
    private func clientFrameHeader(_ opcode: WebSocketOpcode, length: Int) -> ByteBuffer {
        var buffer = self.allocator.buffer(capacity: 14)
        WebSocketFrameHeader(fin: true, opcode: opcode, maskKey: [1, 2, 3, 4], payloadLength: length).write(to: &buffer)
        return buffer
    }

    /// A close frame as an upstream sends it (unmasked).
    private func upstreamClose(_ code: WebSocketCloseCode) -> ByteBuffer {
        var buffer = self.allocator.buffer(capacity: 4)
        WebSocketFrameHeader(fin: true, opcode: .connectionClose, payloadLength: 2).write(to: &buffer)
        buffer.writeInteger(code.rawValue)
        return buffer
    }

    /// The close code and reason the upstream was sent, unmasked.
    private func closeSentToUpstream() throws -> WebSocketCloseStatus? {
        var wire = self.allocator.buffer(capacity: 0)
        while var buffer = try self.upstream.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&buffer) }
        var parser = WebSocketFrameParser(maxFrameSize: 1 << 20)
        guard case .controlFrame(let header, let payload) = try parser.next(&wire), header.opcode == .connectionClose else {
            return nil
        }
        return try WebSocketInboundStateMachine.parseClosePayload(payload)
    }

    /// As a client, the upstream leg waits `close_timeout` for the server to close TCP after the handshake.
    private func upstreamLeavesTransportClose() {
        self.loop.advanceTime(by: .seconds(5))
    }

    /// A client that announces a frame over `max_frame` is failed by its endpoint: the session counts the
    /// limit from the failure's reason, counts the end as the gateway's, and tells the upstream.
    func testLimitFailureIsCountedFromItsReason() throws {
        try self.client.writeInbound(self.clientFrameHeader(.binary, length: 1000))
        XCTAssertEqual(self.counters.stats.limitHits, [LimitName.maxMessage: 1])
        let relayed = try self.closeSentToUpstream()
        XCTAssertEqual(relayed?.code, .goingAway)
        XCTAssertEqual(relayed?.reason, "client protocol error (1009 frame of 1000 bytes exceeds max_frame 100)")
        try self.upstream.writeInbound(self.upstreamClose(.goingAway))
        self.upstreamLeavesTransportClose()
        XCTAssertEqual(self.counters.stats.closes, [RouteStats.CloseKey(code: 1009, side: .gateway): 1])
    }

    /// A peer that closes with 1009 itself hit no limit of the gateway's: nothing is counted as one, and
    /// the session is counted as ended by that peer.
    func testPeerCloseWith1009IsNoLimitHit() throws {
        try self.upstream.writeInbound(self.upstreamClose(.messageTooBig))
        XCTAssertEqual(self.counters.stats.limitHits, [:])
        _ = try? self.client.readOutbound(as: ByteBuffer.self)
        var answer = self.clientFrameHeader(.connectionClose, length: 2)
        answer.writeBytes([0x03 ^ 1, 0xF1 ^ 2])
        try self.client.writeInbound(answer)
        self.upstreamLeavesTransportClose()
        XCTAssertEqual(self.counters.stats.closes, [RouteStats.CloseKey(code: 1009, side: .upstream): 1])
    }

    /// A client whose connection drops is counted as 1006 from the client's side; the upstream hears 1001.
    func testLostConnectionIsCountedAs1006ByThePeer() throws {
        try self.client.close().wait()
        let relayed = try self.closeSentToUpstream()
        XCTAssertEqual(relayed, WebSocketCloseStatus(code: .goingAway, reason: "client connection lost"))
        try self.upstream.writeInbound(self.upstreamClose(.goingAway))
        self.upstreamLeavesTransportClose()
        XCTAssertEqual(self.counters.stats.closes, [RouteStats.CloseKey(code: 1006, side: .client): 1])
        XCTAssertEqual(self.counters.stats.limitHits, [:])
    }
}
