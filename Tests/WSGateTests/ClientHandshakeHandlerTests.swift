import NIOCore
import NIOEmbedded
import NIOWebSocket
import XCTest

@testable import WSGate

/// The client pipeline on an EmbeddedChannel, from the request bytes to a running session with the
/// built-in echo upstream (which opens without I/O): the 101, frames pipelined behind the request,
/// a refusal, and the handshake timeout.
final class ClientHandshakeHandlerTests: XCTestCase {
    private var channel: EmbeddedChannel!
    private var environment: SessionEnvironment!

    private static let request =
        "GET /echo HTTP/1.1\r\nHost: gw.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    override func setUpWithError() throws {
        var configuration = GatewayConfiguration(
            listeners: [],
            upstreams: ["echo": UpstreamConfiguration(name: "echo", protocol: .echo)],
            routes: [RouteConfiguration(name: "echo", upstream: "echo")]
        )
        configuration.defaults.limits.handshakeTimeout = .seconds(2)
        self.environment = .standalone()
        let connection = ClientHandshakeContext.forTests(configuration, session: self.environment)
        self.channel = EmbeddedChannel()
        let ticket = AdmissionTicket(acceptance: .admitted, ip: nil, limiter: ConnectionLimiter())
        try ClientPipeline.configure(
            self.channel,
            tls: nil,
            maxHeaderBytes: 16 * 1024,
            handshake: ClientHandshakeHandler(connection: connection, ticket: ticket)
        )
        try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    override func tearDown() {
        _ = try? self.channel.finish()
    }

    /// A masked client text frame.
    private func clientText(_ text: String) -> ByteBuffer {
        let mask: WebSocketMaskingKey = [1, 2, 3, 4]
        var buffer = ByteBuffer()
        WebSocketFrameHeader(fin: true, opcode: .text, maskKey: mask, payloadLength: text.utf8.count).write(to: &buffer)
        var payload = ByteBuffer(string: text)
        payload.webSocketMask(mask)
        buffer.writeBuffer(&payload)
        return buffer
    }

    private func writtenBytes() throws -> ByteBuffer {
        var all = ByteBuffer()
        while var buffer = try self.channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&buffer) }
        return all
    }

    func testFramesPipelinedBehindTheRequestReachTheSessionAfterThe101() throws {
        var bytes = ByteBuffer(string: Self.request)
        var frame = self.clientText("early")
        bytes.writeBuffer(&frame)
        try self.channel.writeInbound(bytes)
        self.channel.embeddedEventLoop.run()

        var written = try self.writtenBytes()
        let text = String(buffer: written)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), text)
        XCTAssertTrue(
            text.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")
                || text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")
        )
        let headEnd = text.range(of: "\r\n\r\n")!.upperBound
        written.moveReaderIndex(forwardBy: text.utf8.distance(from: text.startIndex, to: headEnd))
        XCTAssertEqual(
            Array(written.readableBytesView),
            [0x81, 5] + Array("early".utf8),
            "the echo sent the pipelined frame back, unmasked"
        )
        XCTAssertEqual(self.environment.sessions.count, 1)
        XCTAssertNil(
            try? self.channel.pipeline.syncOperations.handler(type: ClientHandshakeHandler.self),
            "the handshake handler left"
        )
    }

    func testARefusedRequestIsAnsweredAndClosed() throws {
        try self.channel.writeInbound(ByteBuffer(string: "GET /echo HTTP/1.1\r\nHost: gw.example\r\n\r\n"))
        self.channel.embeddedEventLoop.run()
        let text = String(buffer: try self.writtenBytes())
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 426 Upgrade Required\r\n"), text)
        XCTAssertTrue(text.hasSuffix("this endpoint only accepts WebSocket upgrades\n"), text)
        XCTAssertFalse(self.channel.isActive)
        XCTAssertEqual(self.environment.stats.route("echo").stats.handshakeFailures, [426: 1])
    }

    func testAHandshakeNotCompletedInTimeIs408() throws {
        try self.channel.writeInbound(ByteBuffer(string: "GET /echo HTTP/1.1\r\n"))
        self.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        let text = String(buffer: try self.writtenBytes())
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), text)
        XCTAssertFalse(self.channel.isActive)
        XCTAssertEqual(self.environment.stats.route(StatsLoopState.unrouted).stats.handshakeFailures, [408: 1])
    }
}
