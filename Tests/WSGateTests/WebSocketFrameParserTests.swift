import NIOCore
import NIOWebSocket
import XCTest

@testable import WSGate

final class WebSocketFrameParserTests: XCTestCase {
    private let allocator = ByteBufferAllocator()

    /// Encodes a frame the way a peer would, masking with `mask` when given.
    private func frame(
        _ opcode: WebSocketOpcode,
        fin: Bool = true,
        rsv: UInt8 = 0,
        payload: [UInt8],
        mask: WebSocketMaskingKey? = nil
    ) -> ByteBuffer {
        var buffer = self.allocator.buffer(capacity: payload.count + 14)
        WebSocketFrameHeader(fin: fin, reservedBits: rsv, opcode: opcode, maskKey: mask, payloadLength: payload.count).write(
            to: &buffer
        )
        var body = self.allocator.buffer(bytes: payload)
        if let mask { body.webSocketMask(mask) }
        buffer.writeBuffer(&body)
        return buffer
    }

    private func parseAll(_ buffer: ByteBuffer, maxFrameSize: Int = 1 << 20) throws -> [WebSocketFrameParser.Event] {
        var parser = WebSocketFrameParser(maxFrameSize: maxFrameSize)
        var buffer = buffer
        var events: [WebSocketFrameParser.Event] = []
        while let event = try parser.next(&buffer) { events.append(event) }
        return events
    }

    func testParsesMaskedTextFrame() throws {
        let mask: WebSocketMaskingKey = [1, 2, 3, 4]
        let events = try self.parseAll(self.frame(.text, payload: Array("hello".utf8), mask: mask))
        XCTAssertEqual(
            events,
            [
                .dataFrameHeader(WebSocketFrameHeader(fin: true, opcode: .text, maskKey: mask, payloadLength: 5)),
                .dataPayload(self.allocator.buffer(string: "hello"), endsFrame: true),
            ]
        )
    }

    func testStreamsPayloadAsBytesArriveAndUnmasksAcrossSlices() throws {
        let mask: WebSocketMaskingKey = [9, 8, 7, 6]
        let payload = (0..<1000).map { UInt8($0 % 251) }
        var wire = self.frame(.binary, payload: payload, mask: mask)
        var parser = WebSocketFrameParser(maxFrameSize: 1 << 20)
        var received: [UInt8] = []
        var headers = 0
        var pending = self.allocator.buffer(capacity: 0)
        // Feed 7 bytes at a time: the header splits, then the payload streams in small slices.
        while let chunk = wire.readSlice(length: min(7, wire.readableBytes)), chunk.readableBytes > 0 {
            var chunk = chunk
            pending.writeBuffer(&chunk)
            while let event = try parser.next(&pending) {
                switch event {
                case .dataFrameHeader(let header):
                    headers += 1
                    XCTAssertEqual(header.payloadLength, 1000)
                case .dataPayload(let slice, _):
                    XCTAssertLessThanOrEqual(slice.readableBytes, 7)
                    received += slice.readableBytesView
                case .controlFrame:
                    XCTFail("unexpected control frame")
                }
            }
        }
        XCTAssertEqual(headers, 1)
        XCTAssertEqual(received, payload)
    }

    func testExtendedLengths() throws {
        for length in [125, 126, 65535, 65536] {
            let events = try self.parseAll(self.frame(.binary, payload: Array(repeating: 0x61, count: length)))
            guard case .dataFrameHeader(let header) = events.first else { return XCTFail("no header") }
            XCTAssertEqual(header.payloadLength, length)
            let total = events.dropFirst().reduce(0) { sum, event in
                if case .dataPayload(let slice, _) = event { return sum + slice.readableBytes }
                return sum
            }
            XCTAssertEqual(total, length)
        }
    }

    func testZeroLengthDataFrameIsJustAHeader() throws {
        let events = try self.parseAll(self.frame(.text, payload: []))
        XCTAssertEqual(events, [.dataFrameHeader(WebSocketFrameHeader(fin: true, opcode: .text, payloadLength: 0))])
    }

    /// Every data frame ends exactly once: at the slice that completes it, or at its head when it has no
    /// payload; however the bytes arrive, and with a control frame between fragments.
    func testEachFrameEndsOnceIncludingEmptyAndFragmentedFrames() throws {
        let mask: WebSocketMaskingKey = [5, 6, 7, 8]
        var wire = self.frame(.text, fin: false, payload: Array("frag".utf8), mask: mask)
        var empty = self.frame(.continuation, fin: false, payload: [], mask: mask)
        var ping = self.frame(.ping, payload: [1], mask: mask)
        var last = self.frame(.continuation, payload: Array(repeating: 0x61, count: 300), mask: mask)
        wire.writeBuffer(&empty)
        wire.writeBuffer(&ping)
        wire.writeBuffer(&last)
        for readSize in [1, 7, 100, wire.readableBytes] {
            var parser = WebSocketFrameParser(maxFrameSize: 1 << 20)
            var input = wire
            var pending = self.allocator.buffer(capacity: 0)
            var endedFrameLengths: [Int] = []
            var openFrame: (length: Int, received: Int)?
            while let chunk = input.readSlice(length: min(readSize, input.readableBytes)), chunk.readableBytes > 0 {
                var chunk = chunk
                pending.writeBuffer(&chunk)
                while let event = try parser.next(&pending) {
                    switch event {
                    case .dataFrameHeader(let header):
                        XCTAssertNil(openFrame, "a head before the previous frame ended")
                        if header.payloadLength == 0 {
                            endedFrameLengths.append(0)
                        } else {
                            openFrame = (header.payloadLength, 0)
                        }
                    case .dataPayload(let slice, let endsFrame):
                        guard var frame = openFrame else { return XCTFail("payload outside a frame") }
                        frame.received += slice.readableBytes
                        XCTAssertEqual(endsFrame, frame.received == frame.length, "read size \(readSize)")
                        openFrame = endsFrame ? nil : frame
                        if endsFrame { endedFrameLengths.append(frame.length) }
                    case .controlFrame:
                        break
                    }
                }
            }
            XCTAssertNil(openFrame)
            XCTAssertEqual(endedFrameLengths, [4, 0, 300], "read size \(readSize)")
        }
    }

    func testControlFrameIsDeliveredWhole() throws {
        var wire = self.frame(.ping, payload: Array("ping!".utf8), mask: [1, 1, 1, 1])
        var parser = WebSocketFrameParser(maxFrameSize: 1 << 20)
        var partial = wire.readSlice(length: wire.readableBytes - 2)!
        XCTAssertNil(try parser.next(&partial))
        partial.writeBuffer(&wire)
        guard case .controlFrame(let header, let payload) = try parser.next(&partial) else { return XCTFail("no control frame") }
        XCTAssertEqual(header.opcode, .ping)
        XCTAssertEqual(String(buffer: payload), "ping!")
    }

    func testRejectsReservedOpcode() {
        var buffer = self.allocator.buffer(bytes: [0x83, 0x00])
        var parser = WebSocketFrameParser(maxFrameSize: 100)
        XCTAssertThrowsError(try parser.next(&buffer)) { error in
            XCTAssertEqual((error as? WebSocketProtocolError)?.code, .protocolError)
        }
    }

    func testRejectsLongOrFragmentedControlFrames() {
        for bytes: [UInt8] in [[0x89, 126, 0, 126], [0x09, 0x00]] {
            var buffer = self.allocator.buffer(bytes: bytes)
            var parser = WebSocketFrameParser(maxFrameSize: 1000)
            XCTAssertThrowsError(try parser.next(&buffer)) { error in
                XCTAssertEqual((error as? WebSocketProtocolError)?.code, .protocolError)
            }
        }
    }

    func testOversizedFrameFailsWith1009BeforeItsPayloadArrives() {
        var buffer = self.allocator.buffer(bytes: [0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0])
        var parser = WebSocketFrameParser(maxFrameSize: 1 << 20)
        XCTAssertThrowsError(try parser.next(&buffer)) { error in
            XCTAssertEqual((error as? WebSocketProtocolError)?.code, .messageTooBig)
        }
    }

    func testRejectsLengthWithMostSignificantBitSet() {
        var buffer = self.allocator.buffer(bytes: [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1])
        var parser = WebSocketFrameParser(maxFrameSize: .max)
        XCTAssertThrowsError(try parser.next(&buffer)) { error in
            XCTAssertEqual((error as? WebSocketProtocolError)?.code, .protocolError)
        }
    }
}
