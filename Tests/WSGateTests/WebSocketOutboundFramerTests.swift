import NIOCore
import NIOWebSocket
import XCTest

@testable import WSGate

final class WebSocketOutboundFramerTests: XCTestCase {
    private let allocator = ByteBufferAllocator()

    func testServerFramesAreUnmasked() {
        var framer = WebSocketOutboundFramer(role: .server)
        let head = framer.encodeHead(
            WebSocketDataFrameHead(opcode: .text, fin: true, payloadLength: 2),
            allocator: self.allocator
        )
        XCTAssertEqual(Array(head.readableBytesView), [0x81, 0x02])
        XCTAssertEqual(
            Array(framer.encodePayload(self.allocator.buffer(string: "hi"), endsFrame: true).readableBytesView),
            Array("hi".utf8)
        )
        XCTAssertFalse(framer.isInsideFrame)
    }

    func testClientFramesAreMaskedAcrossSlices() throws {
        var framer = WebSocketOutboundFramer(role: .client)
        var wire = framer.encodeHead(
            WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: 6),
            allocator: self.allocator
        )
        var first = framer.encodePayload(self.allocator.buffer(bytes: [1, 2, 3]), endsFrame: false)
        var second = framer.encodePayload(self.allocator.buffer(bytes: [4, 5, 6]), endsFrame: true)
        wire.writeBuffer(&first)
        wire.writeBuffer(&second)
        var parser = WebSocketFrameParser(maxFrameSize: 100)
        guard case .dataFrameHeader(let header) = try parser.next(&wire) else { return XCTFail("no header") }
        XCTAssertNotNil(header.maskKey)
        XCTAssertEqual(try parser.next(&wire), .dataPayload(self.allocator.buffer(bytes: [1, 2, 3, 4, 5, 6]), endsFrame: true))
    }

    func testAShortFirstSliceIsCopiedBehindTheHeaderAndALongOneIsNot() {
        var framer = WebSocketOutboundFramer(role: .server)
        let short = framer.encodeHead(
            WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: 3),
            firstPayload: self.allocator.buffer(bytes: [1, 2, 3]),
            endsFrame: true,
            allocator: self.allocator
        )
        XCTAssertEqual(Array(short.start.readableBytesView), [0x82, 0x03, 1, 2, 3])
        XCTAssertNil(short.rest)
        XCTAssertFalse(framer.isInsideFrame)

        let size = WebSocketOutboundFramer.maxCopiedPayload + 1
        let payload = self.allocator.buffer(repeating: 7, count: size)
        let long = framer.encodeHead(
            WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: size + 1),
            firstPayload: payload,
            endsFrame: false,
            allocator: self.allocator
        )
        XCTAssertEqual(long.start.readableBytes, 4)
        XCTAssertEqual(long.rest, payload)
        XCTAssertTrue(framer.isInsideFrame)
    }

    func testAMaskedFirstSliceIsCopiedMaskedAndTheNextSliceContinuesTheMask() throws {
        var framer = WebSocketOutboundFramer(role: .client)
        let first = self.allocator.buffer(repeating: 5, count: WebSocketOutboundFramer.maxCopiedPayload + 3)
        let encoded = framer.encodeHead(
            WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: first.readableBytes + 3),
            firstPayload: first,
            endsFrame: false,
            allocator: self.allocator
        )
        XCTAssertNil(encoded.rest)
        var wire = encoded.start
        var second = framer.encodePayload(self.allocator.buffer(bytes: [1, 2, 3]), endsFrame: true)
        wire.writeBuffer(&second)
        var parser = WebSocketFrameParser(maxFrameSize: 4096)
        guard case .dataFrameHeader(let header) = try parser.next(&wire) else { return XCTFail("no header") }
        XCTAssertNotNil(header.maskKey)
        var expected = first
        expected.writeBytes([1, 2, 3])
        XCTAssertEqual(try parser.next(&wire), .dataPayload(expected, endsFrame: true))
        XCTAssertEqual(first, self.allocator.buffer(repeating: 5, count: WebSocketOutboundFramer.maxCopiedPayload + 3))
    }

    func testControlFramesWaitForTheFrameInProgress() {
        var framer = WebSocketOutboundFramer(role: .server)
        _ = framer.encodeHead(WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: 2), allocator: self.allocator)
        _ = framer.encodePayload(self.allocator.buffer(bytes: [1]), endsFrame: false)
        XCTAssertNil(framer.encodeControl(.pong, payload: self.allocator.buffer(bytes: [9]), allocator: self.allocator))
        XCTAssertEqual(framer.takeControlFramesIfBetweenFrames(), [])
        _ = framer.encodePayload(self.allocator.buffer(bytes: [2]), endsFrame: true)
        XCTAssertEqual(framer.takeControlFramesIfBetweenFrames().map { Array($0.readableBytesView) }, [[0x8A, 0x01, 0x09]])
        XCTAssertNotNil(framer.encodeControl(.ping, payload: self.allocator.buffer(capacity: 0), allocator: self.allocator))
    }

    func testClosePayloadTruncatesLongReasonsOnACharacterBoundary() {
        let status = WebSocketCloseStatus(code: .goingAway, reason: String(repeating: "é", count: 100))
        let payload = WebSocketOutboundFramer.closePayload(status, allocator: self.allocator)
        XCTAssertLessThanOrEqual(payload.readableBytes, 125)
        XCTAssertEqual(try WebSocketInboundStateMachine.parseClosePayload(payload).code, .goingAway)
        XCTAssertEqual(
            WebSocketOutboundFramer.closePayload(WebSocketCloseStatus(code: nil), allocator: self.allocator).readableBytes,
            0
        )
    }
}
