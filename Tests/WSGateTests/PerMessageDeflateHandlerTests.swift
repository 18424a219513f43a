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

    override func setUp() {
        let endpoint = WebSocketEndpointConfiguration(
            maxFrameSize: 1 << 20, maxMessageSize: 1 << 20, pingInterval: nil, closeTimeout: .seconds(5),
            negotiatedReservedBits: WebSocketFrameHeader.rsv1
        )
        let agreement = PerMessageDeflateNegotiation(configuration: CompressionConfiguration()).negotiate(["permessage-deflate"])!
        self.channel = EmbeddedChannel()
        XCTAssertNoThrow(try self.channel.pipeline.syncOperations.addHandlers([
            WebSocketEndpointHandler(role: .server, configuration: endpoint),
            PerMessageDeflateHandler(
                agreement: agreement,
                configuration: CompressionConfiguration(),
                maxMessageSize: 1 << 20,
                loopState: self.loopState,
                counters: self.counters
            ),
        ]))
        XCTAssertNoThrow(try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait())
    }

    override func tearDown() {
        _ = try? self.channel.finish()
    }

    private func clientFrame(_ opcode: WebSocketOpcode, rsv1: Bool, _ payload: [UInt8]) -> ByteBuffer {
        let mask: WebSocketMaskingKey = [0x37, 0xFA, 0x21, 0x3D]
        var buffer = self.allocator.buffer(capacity: payload.count + 14)
        WebSocketFrameHeader(fin: true, reservedBits: rsv1 ? WebSocketFrameHeader.rsv1 : 0, opcode: opcode, maskKey: mask, payloadLength: payload.count).write(to: &buffer)
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
        XCTAssertEqual(try self.channel.readInbound(as: WebSocketFrameEvent.self), .frameHead(WebSocketDataFrameHead(opcode: .text, fin: true, payloadLength: 5)))
        XCTAssertEqual(try self.channel.readInbound(as: WebSocketFrameEvent.self), .payload(self.allocator.buffer(string: "Hello")))

        let text = String(repeating: "Hello, gateway. ", count: 10)
        self.channel.write(WebSocketFrameEvent.frameHead(WebSocketDataFrameHead(opcode: .text, fin: true, payloadLength: text.utf8.count)), promise: nil)
        self.channel.writeAndFlush(WebSocketFrameEvent.payload(self.allocator.buffer(string: text)), promise: nil)
        let wire = try self.writtenBytes()
        XCTAssertEqual(wire[0], 0xC1, "FIN, RSV1, text")
        XCTAssertLessThan(wire.count, 40)
        XCTAssertGreaterThan(self.loopState.memory.bytesInUse, 0)
        XCTAssertEqual(self.counters.inboundMessages, 1)
        XCTAssertEqual(self.counters.outboundMessages, 1)
    }

    func testZipBombClosesWith1009() throws {
        var deflater = PerMessageDeflater(
            parameters: ZlibStreamParameters(windowBits: 15, memoryLevel: 8, level: 9), minSize: 0, pool: nil,
            memory: self.loopState.memory, counters: CompressionCounters()
        )
        var bomb: [UInt8] = []
        try deflater.send(.frameHead(WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: 8 << 20)), allocator: self.allocator) { _ in }
        try deflater.send(.payload(self.allocator.buffer(repeating: 0, count: 8 << 20)), allocator: self.allocator) { event in
            if case .payload(let payload) = event { bomb += payload.readableBytesView }
        }
        try self.channel.writeInbound(self.clientFrame(.binary, rsv1: true, bomb))
        var inflated = 0
        var failure: WebSocketCloseStatus?
        while let event = try self.channel.readInbound(as: WebSocketFrameEvent.self) {
            switch event {
            case .payload(let payload): inflated += payload.readableBytes
            case .failed(let status): failure = status
            case .frameHead, .close: break
            }
        }
        XCTAssertEqual(failure?.code, .messageTooBig)
        XCTAssertLessThanOrEqual(inflated, 1 << 20)
        XCTAssertEqual(Array(try self.writtenBytes().prefix(4)), [0x88, UInt8(2 + (failure?.reason.utf8.count ?? 0)), 0x03, 0xF1], "close 1009 on the wire")
    }

    func testRSV1OnAContinuationOrControlFrameIs1002() throws {
        try self.channel.writeInbound(self.clientFrame(.ping, rsv1: true, []))
        let wire = try self.writtenBytes()
        XCTAssertEqual(Array(wire.prefix(1)), [0x88])
        XCTAssertEqual(Array(wire.dropFirst(2).prefix(2)), [0x03, 0xEA], "close 1002")
    }
}
