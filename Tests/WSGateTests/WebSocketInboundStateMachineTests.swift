import NIOCore
import NIOWebSocket
import XCTest

@testable import WSGate

final class WebSocketInboundStateMachineTests: XCTestCase {
    private let allocator = ByteBufferAllocator()
    private let mask: WebSocketMaskingKey = [1, 2, 3, 4]

    private func header(
        _ opcode: WebSocketOpcode,
        fin: Bool = true,
        rsv: UInt8 = 0,
        length: Int,
        masked: Bool = true
    ) -> WebSocketFrameParser.Event {
        .dataFrameHeader(
            WebSocketFrameHeader(
                fin: fin,
                reservedBits: rsv,
                opcode: opcode,
                maskKey: masked ? self.mask : nil,
                payloadLength: length
            )
        )
    }

    private func payload(_ bytes: [UInt8]) -> WebSocketFrameParser.Event {
        .dataPayload(self.allocator.buffer(bytes: bytes), endsFrame: true)
    }

    private func control(_ opcode: WebSocketOpcode, _ bytes: [UInt8], rsv: UInt8 = 0) -> WebSocketFrameParser.Event {
        .controlFrame(
            WebSocketFrameHeader(fin: true, reservedBits: rsv, opcode: opcode, maskKey: self.mask, payloadLength: bytes.count),
            self.allocator.buffer(bytes: bytes)
        )
    }

    private func assertFails(
        _ machine: inout WebSocketInboundStateMachine,
        _ event: WebSocketFrameParser.Event,
        with code: WebSocketCloseCode,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertThrowsError(try machine.receive(event), file: file, line: line) { error in
            XCTAssertEqual((error as? WebSocketProtocolError)?.code, code, file: file, line: line)
        }
    }

    func testForwardsAFragmentedTextMessage() throws {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100)
        XCTAssertEqual(
            try machine.receive(self.header(.text, fin: false, length: 2)),
            .forward(.frameHead(WebSocketDataFrameHead(opcode: .text, fin: false, payloadLength: 2)))
        )
        XCTAssertEqual(
            try machine.receive(self.payload([0xCE, 0xBA])),
            .forward(.payload(self.allocator.buffer(bytes: [0xCE, 0xBA]), endsFrame: true))
        )
        // A ping between fragments is allowed.
        XCTAssertEqual(try machine.receive(self.control(.ping, [7])), .sendPong(self.allocator.buffer(bytes: [7])))
        XCTAssertEqual(
            try machine.receive(self.header(.continuation, fin: true, length: 1)),
            .forward(.frameHead(WebSocketDataFrameHead(opcode: .continuation, fin: true, payloadLength: 1)))
        )
        XCTAssertEqual(
            try machine.receive(self.payload([0x41])),
            .forward(.payload(self.allocator.buffer(bytes: [0x41]), endsFrame: true))
        )
        // A new message can start.
        XCTAssertEqual(
            try machine.receive(self.header(.binary, length: 0)),
            .forward(.frameHead(WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: 0)))
        )
    }

    func testUnmaskedClientFrameIs1002() {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100)
        self.assertFails(&machine, self.header(.text, length: 1, masked: false), with: .protocolError)
    }

    func testMaskedServerFrameIs1002() {
        var machine = WebSocketInboundStateMachine(role: .client, maxMessageSize: 100)
        self.assertFails(&machine, self.header(.text, length: 1, masked: true), with: .protocolError)
    }

    func testReservedBitsWithoutExtensionAre1002() {
        for rsv: UInt8 in [0x40, 0x20, 0x10] {
            var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100)
            self.assertFails(&machine, self.header(.binary, rsv: rsv, length: 1), with: .protocolError)
            var controls = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100)
            self.assertFails(&controls, self.control(.ping, [], rsv: rsv), with: .protocolError)
        }
    }

    func testRSV1AllowedOnFirstFrameWhenNegotiated() throws {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100, negotiatedReservedBits: 0x40)
        XCTAssertEqual(
            try machine.receive(self.header(.text, fin: false, rsv: 0x40, length: 0)),
            .forward(.frameHead(WebSocketDataFrameHead(opcode: .text, fin: false, compressed: true, payloadLength: 0)))
        )
        self.assertFails(&machine, self.header(.continuation, rsv: 0x40, length: 0), with: .protocolError)
    }

    func testContinuationWithoutMessageIs1002() {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100)
        self.assertFails(&machine, self.header(.continuation, length: 1), with: .protocolError)
    }

    func testNewMessageInsideFragmentedMessageIs1002() throws {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100)
        _ = try machine.receive(self.header(.binary, fin: false, length: 0))
        self.assertFails(&machine, self.header(.text, length: 0), with: .protocolError)
    }

    func testMessageOverLimitIs1009() throws {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 10)
        _ = try machine.receive(self.header(.binary, fin: false, length: 6))
        _ = try machine.receive(self.payload([1, 2, 3, 4, 5, 6]))
        self.assertFails(&machine, self.header(.continuation, length: 5), with: .messageTooBig)
    }

    /// Issue 11, finding 10: with a limit near `Int.max` the message-length sum overflowed and trapped.
    func testMessageLengthSumDoesNotOverflow() throws {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: .max - 1)
        _ = try machine.receive(self.header(.binary, fin: false, length: .max - 1))
        self.assertFails(&machine, self.header(.continuation, length: 2), with: .messageTooBig)
    }

    func testInvalidUTF8FailsFastWith1007() throws {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100)
        _ = try machine.receive(self.header(.text, fin: false, length: 4))
        self.assertFails(&machine, self.payload([0xCE, 0xBA, 0xED, 0xA0]), with: .invalidPayload)
    }

    func testTextEndingInsideACharacterIs1007() throws {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100)
        _ = try machine.receive(self.header(.text, fin: true, length: 1))
        self.assertFails(&machine, self.payload([0xCE]), with: .invalidPayload)
    }

    func testUTF8ValidatedAcrossFragments() throws {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100)
        _ = try machine.receive(self.header(.text, fin: false, length: 1))
        _ = try machine.receive(self.payload([0xCE]))
        _ = try machine.receive(self.header(.continuation, fin: true, length: 1))
        XCTAssertEqual(
            try machine.receive(self.payload([0xBA])),
            .forward(.payload(self.allocator.buffer(bytes: [0xBA]), endsFrame: true))
        )
    }

    func testBinaryIsNotUTF8Checked() throws {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100)
        _ = try machine.receive(self.header(.binary, length: 1))
        XCTAssertEqual(
            try machine.receive(self.payload([0xFF])),
            .forward(.payload(self.allocator.buffer(bytes: [0xFF]), endsFrame: true))
        )
    }

    func testClosePayloads() throws {
        var machine = WebSocketInboundStateMachine(role: .server, maxMessageSize: 100)
        XCTAssertEqual(try machine.receive(self.control(.connectionClose, [])), .closeReceived(WebSocketCloseStatus(code: nil)))
        XCTAssertEqual(
            try machine.receive(self.control(.connectionClose, [0x0F, 0xA1, 0x6F, 0x6B])),
            .closeReceived(WebSocketCloseStatus(code: WebSocketCloseCode(rawValue: 4001), reason: "ok"))
        )
        self.assertFails(&machine, self.control(.connectionClose, [0x03]), with: .protocolError)
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            self.assertFails(
                &machine,
                self.control(.connectionClose, [UInt8(code >> 8), UInt8(code & 0xFF)]),
                with: .protocolError
            )
        }
        self.assertFails(&machine, self.control(.connectionClose, [0x03, 0xE8, 0xCE]), with: .invalidPayload)
    }
}
