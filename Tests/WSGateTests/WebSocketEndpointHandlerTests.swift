import NIOCore
import NIOEmbedded
import NIOWebSocket
import XCTest

@testable import WSGate

final class WebSocketEndpointHandlerTests: XCTestCase {
    private var channel: EmbeddedChannel!
    private let allocator = ByteBufferAllocator()

    override func setUp() {
        let configuration = WebSocketEndpointConfiguration(
            maxFrameSize: 1 << 16,
            maxMessageSize: 1 << 16,
            pingInterval: nil,
            closeTimeout: .seconds(5)
        )
        self.channel = EmbeddedChannel(handler: WebSocketEndpointHandler(role: .server, configuration: configuration))
        XCTAssertNoThrow(try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait())
    }

    override func tearDown() {
        _ = try? self.channel.finish()
    }

    /// A client frame as it arrives on the wire (masked).
    private func clientFrame(_ opcode: WebSocketOpcode, fin: Bool = true, _ payload: [UInt8]) -> ByteBuffer {
        let mask: WebSocketMaskingKey = [0x37, 0xFA, 0x21, 0x3D]
        var buffer = self.allocator.buffer(capacity: payload.count + 14)
        WebSocketFrameHeader(fin: fin, opcode: opcode, maskKey: mask, payloadLength: payload.count).write(to: &buffer)
        var body = self.allocator.buffer(bytes: payload)
        body.webSocketMask(mask)
        buffer.writeBuffer(&body)
        return buffer
    }

    private func readEvents() throws -> [WebSocketFrameEvent] {
        var events: [WebSocketFrameEvent] = []
        while let event = try self.channel.readInbound(as: WebSocketFrameEvent.self) { events.append(event) }
        return events
    }

    private func writtenBytes() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }

    func testDataFramesBecomeHeadAndPayloadEvents() throws {
        try self.channel.writeInbound(self.clientFrame(.text, Array("Hello".utf8)))
        XCTAssertEqual(
            try self.readEvents(),
            [
                .frameHead(WebSocketDataFrameHead(opcode: .text, fin: true, payloadLength: 5)),
                .payload(self.allocator.buffer(string: "Hello"), endsFrame: true),
            ]
        )
    }

    func testPingIsAnsweredWithPong() throws {
        try self.channel.writeInbound(self.clientFrame(.ping, [1, 2, 3]))
        XCTAssertEqual(try self.writtenBytes(), [0x8A, 0x03, 1, 2, 3])
        XCTAssertEqual(try self.readEvents(), [])
    }

    func testProtocolViolationSendsCloseAndFailsTheLeg() throws {
        try self.channel.writeInbound(self.clientFrame(.continuation, [1]))
        let written = try self.writtenBytes()
        XCTAssertEqual(written.first, 0x88)  // a close frame...
        XCTAssertEqual(Array(written.dropFirst(2).prefix(2)), [0x03, 0xEA])  // ...with code 1002
        let events = try self.readEvents()
        guard case .failed(let status) = events.first else { return XCTFail("no failure reported: \(events)") }
        XCTAssertEqual(status.code, .protocolError)
        XCTAssertFalse(self.channel.isActive)
    }

    func testPeerCloseIsEchoedReportedAndClosesTheConnection() throws {
        try self.channel.writeInbound(self.clientFrame(.connectionClose, [0x0F, 0xA1]))
        XCTAssertEqual(try self.writtenBytes(), [0x88, 0x02, 0x0F, 0xA1])
        XCTAssertEqual(try self.readEvents(), [.close(WebSocketCloseStatus(code: WebSocketCloseCode(rawValue: 4001)))])
        XCTAssertFalse(self.channel.isActive)
    }

    func testSessionCloseWaitsForThePeerAnswer() throws {
        try self.channel.writeOutbound(WebSocketFrameEvent.close(WebSocketCloseStatus(code: .goingAway, reason: "x")))
        XCTAssertEqual(try self.writtenBytes(), [0x88, 0x03, 0x03, 0xE9, 0x78])
        XCTAssertTrue(self.channel.isActive)
        try self.channel.writeInbound(self.clientFrame(.connectionClose, [0x03, 0xE9]))
        XCTAssertFalse(self.channel.isActive)
        // The session started the close, so it is told how the peer answered.
        XCTAssertEqual(try self.readEvents(), [.close(WebSocketCloseStatus(code: .goingAway))])
    }

    /// A failure written to the endpoint (found further up the pipeline) fails the leg as one it found
    /// itself: the close goes out with the failure's code and the connection is dropped at once.
    func testFailureWrittenToTheEndpointFailsTheLegAtOnce() throws {
        let failure = WebSocketFailure.limitExceeded(.maxMessage, reason: "x")
        try self.channel.writeOutbound(WebSocketFrameEvent.failed(failure))
        XCTAssertEqual(try self.writtenBytes(), [0x88, 0x03, 0x03, 0xF1, 0x78])
        XCTAssertFalse(self.channel.isActive, "no wait for the peer's answer")
        XCTAssertEqual(try self.readEvents(), [.failed(failure)])
    }

    func testUnansweredCloseTimesOut() throws {
        try self.channel.writeOutbound(WebSocketFrameEvent.close(WebSocketCloseStatus(code: .normalClosure)))
        self.channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        XCTAssertTrue(self.channel.isActive)
        self.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        XCTAssertFalse(self.channel.isActive)
    }

    func testPongWaitsUntilTheOutgoingDataFrameIsComplete() throws {
        try self.channel.writeOutbound(
            WebSocketFrameEvent.frameHead(WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: 2))
        )
        try self.channel.writeOutbound(WebSocketFrameEvent.payload(self.allocator.buffer(bytes: [0xAA]), endsFrame: false))
        try self.channel.writeInbound(self.clientFrame(.ping, [7]))
        XCTAssertEqual(try self.writtenBytes(), [0x82, 0x02, 0xAA])
        try self.channel.writeOutbound(WebSocketFrameEvent.payload(self.allocator.buffer(bytes: [0xBB]), endsFrame: true))
        XCTAssertEqual(try self.writtenBytes(), [0xBB, 0x8A, 0x01, 0x07])
    }

    /// A frame header waits for the frame's first payload bytes: a leg that ends before any of them
    /// (an upstream whose text is not UTF-8) leaves this leg between frames, where a close fits.
    func testCloseBeforeAnyPayloadOfAFrameDropsItsHeaderAndSendsTheClose() throws {
        try self.channel.writeOutbound(
            WebSocketFrameEvent.frameHead(WebSocketDataFrameHead(opcode: .text, fin: true, payloadLength: 5))
        )
        XCTAssertEqual(try self.writtenBytes(), [])
        try self.channel.writeOutbound(WebSocketFrameEvent.close(WebSocketCloseStatus(code: .badGateway, reason: "")))
        XCTAssertEqual(try self.writtenBytes(), [0x88, 0x02, 0x03, 0xF6], "close 1014, no data frame")
        XCTAssertTrue(self.channel.isActive, "waits for the close answer")
    }

    func testPingsBehindAnUnfinishedDataFrameQueueOnePong() throws {
        try self.channel.writeOutbound(
            WebSocketFrameEvent.frameHead(WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: 2))
        )
        try self.channel.writeOutbound(WebSocketFrameEvent.payload(self.allocator.buffer(bytes: [0xAA]), endsFrame: false))
        for index in 0..<1000 {
            try self.channel.writeInbound(self.clientFrame(.ping, [UInt8(truncatingIfNeeded: index)]))
        }
        XCTAssertEqual(try self.writtenBytes(), [0x82, 0x02, 0xAA])
        try self.channel.writeOutbound(WebSocketFrameEvent.payload(self.allocator.buffer(bytes: [0xBB]), endsFrame: true))
        // Only the latest ping is answered (RFC 6455 section 5.5.3).
        XCTAssertEqual(try self.writtenBytes(), [0xBB, 0x8A, 0x01, UInt8(truncatingIfNeeded: 999)])
    }

    /// A peer that pings without reading (issue 11, finding 3): with the socket not taking writes, at
    /// most one pong is written and one more kept, answering the latest ping.
    func testPingFloodFromAPeerThatDoesNotReadHoldsAtMostTwoPongs() throws {
        let stalled = StalledSocketHandler()
        let configuration = WebSocketEndpointConfiguration(
            maxFrameSize: 1 << 16,
            maxMessageSize: 1 << 16,
            pingInterval: nil,
            closeTimeout: .seconds(5)
        )
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(stalled)
        try channel.pipeline.syncOperations.addHandler(WebSocketEndpointHandler(role: .server, configuration: configuration))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        for index in 0..<10_000 {
            try channel.writeInbound(self.clientFrame(.ping, Array(repeating: UInt8(truncatingIfNeeded: index), count: 125)))
        }
        XCTAssertEqual(stalled.held.count, 1, "one pong on its way")
        stalled.release()
        XCTAssertEqual(stalled.held.count, 1, "then only the answer to the latest ping")
        XCTAssertEqual(stalled.held.first?.0.getInteger(at: 2, as: UInt8.self), UInt8(truncatingIfNeeded: 9_999))
        stalled.release()
        XCTAssertEqual(stalled.held.count, 0)
        _ = try channel.finish()
    }

    func testKeepalivePingsAndGivesUpOnASilentPeer() throws {
        let configuration = WebSocketEndpointConfiguration(
            maxFrameSize: 100,
            maxMessageSize: 100,
            pingInterval: .seconds(30),
            closeTimeout: .seconds(5)
        )
        let channel = EmbeddedChannel(handler: WebSocketEndpointHandler(role: .server, configuration: configuration))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self).map { Array($0.readableBytesView) }, [0x89, 0x00])
        // Any traffic counts as an answer.
        try channel.writeInbound(self.clientFrame(.pong, []))
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self).map { Array($0.readableBytesView) }, [0x89, 0x00])
        XCTAssertTrue(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        XCTAssertFalse(channel.isActive)
        guard case .failed(let status) = try channel.readInbound(as: WebSocketFrameEvent.self) else {
            return XCTFail("no failure")
        }
        XCTAssertEqual(status.code, .goingAway)
    }
}

extension WebSocketEndpointHandlerTests {
    func testNoKeepalivePingWhileAFrameIsGoingOut() throws {
        let configuration = WebSocketEndpointConfiguration(
            maxFrameSize: 100,
            maxMessageSize: 100,
            pingInterval: .seconds(30),
            closeTimeout: .seconds(5)
        )
        let channel = EmbeddedChannel(handler: WebSocketEndpointHandler(role: .server, configuration: configuration))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeOutbound(
            WebSocketFrameEvent.frameHead(WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: 10))
        )
        try channel.writeOutbound(WebSocketFrameEvent.payload(ByteBuffer(bytes: [1]), endsFrame: false))
        // The header and the first payload slice went out (one buffer: the slice is short).
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self).map { Array($0.readableBytesView) }, [0x82, 10, 1])
        for _ in 0..<3 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        }
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self), "no ping queued or sent mid-frame")
        XCTAssertTrue(channel.isActive, "a peer receiving a long frame is not declared dead")
    }
}

/// Stands for a socket whose peer does not read: writes are kept and their promises left pending
/// until `release()`, which completes them (as the kernel taking the bytes would).
private final class StalledSocketHandler: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer

    private(set) var held: [(ByteBuffer, EventLoopPromise<Void>?)] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.held.append((self.unwrapOutboundIn(data), promise))
    }

    /// Completes every held write.
    func release() {
        let released = self.held
        self.held = []
        for (_, promise) in released { promise?.succeed(()) }
    }
}
