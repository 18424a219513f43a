import NIOCore
import NIOEmbedded
import NIOWebSocket
import XCTest

@testable import WSGate

/// The client leg with compression negotiated: endpoint, then `PerMessageDeflateHandler`, on an EmbeddedChannel.
final class PerMessageDeflateHandlerTests: XCTestCase {
    private var channel: EmbeddedChannel!
    private let allocator = ByteBufferAllocator()
    private let loopState = CompressionLoopState()
    private let counters = CompressionCounters()
    /// What the session would answer (``InboundGate``).
    private var gate = InboundGate.open

    override func setUp() {
        XCTAssertNoThrow(self.channel = try self.makeLeg())
    }

    /// A connected client leg: endpoint, then the codec.
    private func makeLeg() throws -> EmbeddedChannel {
        let endpoint = WebSocketEndpointConfiguration(
            maxFrameSize: 1 << 20,
            maxMessageSize: 1 << 20,
            pingInterval: nil,
            closeTimeout: .seconds(5),
            negotiatedReservedBits: WebSocketFrameHeader.rsv1
        )
        let agreement = PerMessageDeflateNegotiation(configuration: CompressionConfiguration()).negotiate(["permessage-deflate"])!
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            WebSocketEndpointHandler(role: .server, configuration: endpoint),
            PerMessageDeflateHandler(
                agreement: agreement,
                configuration: CompressionConfiguration(),
                maxMessageSize: 1 << 20,
                loopState: self.loopState,
                counters: self.counters,
                gate: { [unowned self] in self.gate }
            ),
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    override func tearDown() {
        _ = try? self.channel.finish()
    }

    private func clientFrame(_ opcode: WebSocketOpcode, rsv1: Bool, _ payload: [UInt8]) -> ByteBuffer {
        let mask: WebSocketMaskingKey = [0x37, 0xFA, 0x21, 0x3D]
        var buffer = self.allocator.buffer(capacity: payload.count + 14)
        WebSocketFrameHeader(
            fin: true,
            reservedBits: rsv1 ? WebSocketFrameHeader.rsv1 : 0,
            opcode: opcode,
            maskKey: mask,
            payloadLength: payload.count
        ).write(to: &buffer)
        var body = self.allocator.buffer(bytes: payload)
        body.webSocketMask(mask)
        buffer.writeBuffer(&body)
        return buffer
    }

    private func writtenBytes() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }

    func testCompressedFrameIsInflatedAndAnswerIsCompressed() throws {
        try self.channel.writeInbound(self.clientFrame(.text, rsv1: true, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]))
        XCTAssertEqual(
            try self.channel.readInbound(as: WebSocketFrameEvent.self),
            .frameHead(WebSocketDataFrameHead(opcode: .text, fin: true, payloadLength: 5))
        )
        XCTAssertEqual(
            try self.channel.readInbound(as: WebSocketFrameEvent.self),
            .payload(self.allocator.buffer(string: "Hello"), endsFrame: true)
        )

        let text = String(repeating: "Hello, gateway. ", count: 10)
        self.channel.write(
            WebSocketFrameEvent.frameHead(WebSocketDataFrameHead(opcode: .text, fin: true, payloadLength: text.utf8.count)),
            promise: nil
        )
        self.channel.writeAndFlush(
            WebSocketFrameEvent.payload(self.allocator.buffer(string: text), endsFrame: true),
            promise: nil
        )
        let wire = try self.writtenBytes()
        XCTAssertEqual(wire[0], 0xC1, "FIN, RSV1, text")
        XCTAssertLessThan(wire.count, 40)
        XCTAssertGreaterThan(self.loopState.memory.bytesInUse, 0)
        XCTAssertEqual(self.counters.inboundMessages, 1)
        XCTAssertEqual(self.counters.outboundMessages, 1)
    }

    /// What reads the inflated output may close the connection at once (the session at `max_buffered`,
    /// or an echo whose answer fails to deflate): the inflater, still running, is released only after it
    /// returns.
    func testClosingTheChannelFromTheInflatedOutputDoesNotTrap() throws {
        let closer = CloseOnFirstPayload()
        try self.channel.pipeline.syncOperations.addHandler(closer)
        try self.channel.writeInbound(self.clientFrame(.text, rsv1: true, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]))
        XCTAssertFalse(self.channel.isActive)
        XCTAssertEqual(self.loopState.memory.bytesInUse, 0, "the inflater's zlib stream is released")
        XCTAssertEqual(closer.failures.count, 1, "the leg's end, which arrived during the run, is handed on once")
        guard case .connectionLost = closer.failures.first else {
            return XCTFail("expected the lost connection, got \(closer.failures)")
        }
    }

    func testZipBombClosesWith1009() throws {
        let bomb = try deflatedZeros(size: 8 << 20)
        try self.channel.writeInbound(self.clientFrame(.binary, rsv1: true, bomb))
        var inflated = 0
        var failure: WebSocketFailure?
        while let event = try self.channel.readInbound(as: WebSocketFrameEvent.self) {
            switch event {
            case .payload(let payload, _): inflated += payload.readableBytes
            case .failed(let status): failure = status
            case .frameHead, .close: break
            }
        }
        XCTAssertEqual(failure?.code, .messageTooBig)
        XCTAssertLessThanOrEqual(inflated, 1 << 20)
        XCTAssertEqual(
            Array(try self.writtenBytes().prefix(4)),
            [0x88, UInt8(2 + (failure?.reason.utf8.count ?? 0)), 0x03, 0xF1],
            "close 1009 on the wire"
        )
    }

    private func inflatedEvents() throws -> (bytes: Int, fin: Bool, other: [WebSocketFrameEvent]) {
        var bytes = 0
        var fin = false
        var other: [WebSocketFrameEvent] = []
        while let event = try self.channel.readInbound(as: WebSocketFrameEvent.self) {
            switch event {
            case .payload(let payload, _): bytes += payload.readableBytes
            case .frameHead(let head): fin = fin || head.fin
            case .close, .failed: other.append(event)
            }
        }
        return (bytes, fin, other)
    }

    func testInflationWaitsWhileTheOtherLegIsFull() throws {
        let bomb = try deflatedZeros(size: 1 << 20)
        self.gate = .full
        try self.channel.writeInbound(self.clientFrame(.binary, rsv1: true, bomb))
        let first = try self.inflatedEvents()
        XCTAssertLessThanOrEqual(first.bytes, PerMessageInflater.chunkSize, "at most one chunk past the high-water mark")
        XCTAssertFalse(first.fin)
        // A read while still full inflates nothing more.
        self.channel.read()
        XCTAssertEqual(try self.inflatedEvents().bytes, 0)
        // Room again: the session's read resumes inflation, chunk by chunk as long as there is room.
        self.gate = .open
        self.channel.read()
        let rest = try self.inflatedEvents()
        XCTAssertEqual(first.bytes + rest.bytes, 1 << 20)
        XCTAssertTrue(rest.fin)
        XCTAssertEqual(rest.other, [])
    }

    func testEndingSessionDropsWaitingDataButDeliversTheClose() throws {
        let bomb = try deflatedZeros(size: 1 << 20)
        self.gate = .full
        var frames = self.clientFrame(.binary, rsv1: true, bomb)
        var close = self.clientFrame(.connectionClose, rsv1: false, [0x03, 0xE8])
        frames.writeBuffer(&close)
        try self.channel.writeInbound(frames)
        let before = try self.inflatedEvents()
        XCTAssertLessThan(before.bytes, 1 << 20, "most of the message waits while the other leg is full")
        self.gate = .closed
        self.channel.read()
        let after = try self.inflatedEvents()
        XCTAssertEqual(after.bytes, 0)
        XCTAssertEqual(after.other, [.close(WebSocketCloseStatus(code: .normalClosure, reason: ""))])
    }

    /// Compresses `bytes` as one final frame (RSV1 set), as a client would send them.
    private func compressed(_ bytes: [UInt8]) throws -> [UInt8] {
        var deflater = PerMessageDeflater(
            parameters: ZlibStreamParameters(windowBits: 15, memoryLevel: 8, level: 6),
            minSize: 0,
            pool: nil,
            memory: self.loopState.memory,
            counters: CompressionCounters()
        )
        var compressed: [UInt8] = []
        try deflater.send(
            .frameHead(WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: bytes.count)),
            allocator: self.allocator
        ) { _ in }
        try deflater.send(.payload(self.allocator.buffer(bytes: bytes), endsFrame: true), allocator: self.allocator) { event in
            if case .payload(let payload, _) = event { compressed += payload.readableBytesView }
        }
        deflater.release()
        return compressed
    }

    /// What a leg does with one frame from the client: the events it reports, the bytes it writes, and
    /// whether the connection is still up.
    private func outcome(of frame: ByteBuffer) throws -> (events: [WebSocketFrameEvent], wire: [UInt8], isActive: Bool) {
        let leg = try self.makeLeg()
        defer { _ = try? leg.finish() }
        try leg.writeInbound(frame)
        var events: [WebSocketFrameEvent] = []
        while let event = try leg.readInbound(as: WebSocketFrameEvent.self) { events.append(event) }
        var wire: [UInt8] = []
        while let buffer = try leg.readOutbound(as: ByteBuffer.self) { wire += buffer.readableBytesView }
        return (events, wire, leg.isActive)
    }

    /// Text that is not UTF-8 is failed the same way whether the endpoint finds it (a plain frame) or
    /// the inflater does (a compressed one): one failure reported, the same close 1007 written, the
    /// connection dropped at once without waiting for the client's answer (RFC 6455 section 7.1.7).
    func testInflaterViolationIsFailedLikeAnEndpointViolation() throws {
        let notUTF8: [UInt8] = [0x48, 0xFF, 0x48]
        let byEndpoint = try self.outcome(of: self.clientFrame(.text, rsv1: false, notUTF8))
        let byInflater = try self.outcome(of: self.clientFrame(.text, rsv1: true, try self.compressed(notUTF8)))
        let failure = WebSocketFailure.protocolViolation(
            WebSocketProtocolError(.invalidPayload, "text message is not valid UTF-8")
        )
        // The endpoint streams the plain frame's head before its payload is checked; the inflater
        // holds back its output: what follows is the same.
        XCTAssertEqual(byEndpoint.events.dropFirst(), [.failed(failure)])
        XCTAssertEqual(byInflater.events, [.failed(failure)])
        XCTAssertEqual(Array(byEndpoint.wire.prefix(4)), [0x88, UInt8(2 + failure.reason.utf8.count), 0x03, 0xEF], "close 1007")
        XCTAssertEqual(byInflater.wire, byEndpoint.wire)
        XCTAssertFalse(byEndpoint.isActive)
        XCTAssertFalse(byInflater.isActive, "no close timeout: failed, not closed")
    }

    /// A message over `max_message` once inflated is reported as the limit it hit, like a frame over it.
    func testInflatedMessageOverMaxMessageReportsTheLimit() throws {
        let result = try self.outcome(of: self.clientFrame(.binary, rsv1: true, try deflatedZeros(size: 2 << 20)))
        guard case .failed(.limitExceeded(let limit, _)) = result.events.last else {
            return XCTFail("no limit failure: \(result.events.last.map { "\($0)" } ?? "none")")
        }
        XCTAssertEqual(limit, .maxMessage)
        XCTAssertFalse(result.isActive)
    }

    /// The client's close was answered before inflation reached a broken message queued ahead of it (the
    /// other leg was full): the leg's end is reported once, as the close that came first.
    func testViolationBehindAQueuedCloseReportsTheCloseOnce() throws {
        self.gate = .full
        var frames = self.clientFrame(.text, rsv1: true, try self.compressed([0x48, 0xFF, 0x48]))
        var close = self.clientFrame(.connectionClose, rsv1: false, [0x03, 0xE8])
        frames.writeBuffer(&close)
        try self.channel.writeInbound(frames)
        XCTAssertEqual(try self.inflatedEvents().other, [], "all of it waits for room")
        self.gate = .open
        self.channel.read()
        XCTAssertEqual(try self.inflatedEvents().other, [.close(WebSocketCloseStatus(code: .normalClosure, reason: ""))])
    }

    func testRSV1OnAContinuationOrControlFrameIs1002() throws {
        try self.channel.writeInbound(self.clientFrame(.ping, rsv1: true, []))
        let wire = try self.writtenBytes()
        XCTAssertEqual(Array(wire.prefix(1)), [0x88])
        XCTAssertEqual(Array(wire.dropFirst(2).prefix(2)), [0x03, 0xEA], "close 1002")
    }
}

/// Closes its channel when the first inflated payload reaches it, and records the failures after it.
private final class CloseOnFirstPayload: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrameEvent
    private(set) var failures: [WebSocketFailure] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .payload: context.close(promise: nil)
        case .failed(let failure): self.failures.append(failure)
        case .frameHead, .close: break
        }
    }
}
