import NIOCore
import NIOWebSocket

/// The RFC 6455 rules for frames received on one leg, as a value type: masking, reserved bits,
/// fragmentation order, message size, incremental UTF-8 of text messages and close-frame payloads.
///
/// It does no I/O: the endpoint handler feeds it parser events and carries out the returned action.
struct WebSocketInboundStateMachine {
    enum Action: Equatable {
        /// Hand this event to the session.
        case forward(WebSocketFrameEvent)
        /// Answer a ping with a pong carrying this payload.
        case sendPong(ByteBuffer)
        /// A pong arrived (the peer is alive).
        case pongReceived
        /// The peer sent a close frame.
        case closeReceived(WebSocketCloseStatus)
    }

    private enum MessageState {
        case idle
        /// Inside a message; `validator` is set for uncompressed text messages.
        case inMessage(size: Int, validator: UTF8Validator?)
    }

    private let role: WebSocketRole
    private let maxMessageSize: Int
    /// Reserved bits an extension negotiated (RSV1 for permessage-deflate), allowed on a message's first frame.
    private let negotiatedReservedBits: UInt8

    private var message: MessageState = .idle
    /// Whether the current data frame ends its message.
    private var frameIsFinal = false

    init(role: WebSocketRole, maxMessageSize: Int, negotiatedReservedBits: UInt8 = 0) {
        self.role = role
        self.maxMessageSize = maxMessageSize
        self.negotiatedReservedBits = negotiatedReservedBits
    }

    mutating func receive(_ event: WebSocketFrameParser.Event) throws(WebSocketProtocolError) -> Action {
        switch event {
        case .dataFrameHeader(let header):
            return try self.receiveDataFrameHeader(header)
        case .dataPayload(let payload, let endsFrame):
            return try self.receiveDataPayload(payload, endsFrame: endsFrame)
        case .controlFrame(let header, let payload):
            return try self.receiveControlFrame(header, payload: payload)
        }
    }

    private func checkMasking(_ header: WebSocketFrameHeader) throws(WebSocketProtocolError) {
        switch (self.role, header.maskKey) {
        case (.server, nil):
            throw WebSocketProtocolError(.protocolError, "client frame not masked")
        case (.client, .some):
            throw WebSocketProtocolError(.protocolError, "server frame masked")
        case (.server, .some), (.client, nil):
            return
        }
    }

    private mutating func receiveDataFrameHeader(_ header: WebSocketFrameHeader) throws(WebSocketProtocolError) -> Action {
        try self.checkMasking(header)
        let size: Int
        let validator: UTF8Validator?
        var compressed = false
        switch (self.message, header.opcode) {
        case (.idle, .continuation):
            throw WebSocketProtocolError(.protocolError, "continuation frame outside a message")
        case (.idle, _):
            guard header.reservedBits & ~self.negotiatedReservedBits == 0 else {
                throw WebSocketProtocolError(.protocolError, "reserved bits set without a negotiated extension")
            }
            compressed = header.reservedBits & WebSocketFrameHeader.rsv1 != 0
            size = header.payloadLength
            validator = header.opcode == .text && !compressed ? UTF8Validator() : nil
        case (.inMessage(let sizeSoFar, let current), .continuation):
            guard header.reservedBits == 0 else {
                throw WebSocketProtocolError(.protocolError, "reserved bits set on a continuation frame")
            }
            let (sum, overflow) = sizeSoFar.addingReportingOverflow(header.payloadLength)
            size = overflow ? .max : sum
            validator = current
        case (.inMessage, _):
            throw WebSocketProtocolError(.protocolError, "new data frame inside a fragmented message")
        }
        guard size <= self.maxMessageSize else {
            throw WebSocketProtocolError(exceeding: .maxMessage, "message exceeds max_message \(self.maxMessageSize)")
        }
        self.message = .inMessage(size: size, validator: validator)
        self.frameIsFinal = header.fin
        if header.payloadLength == 0 {
            try self.finishFrame()
        }
        let head = WebSocketDataFrameHead(
            opcode: header.opcode,
            fin: header.fin,
            compressed: compressed,
            payloadLength: header.payloadLength
        )
        return .forward(.frameHead(head))
    }

    private mutating func receiveDataPayload(_ payload: ByteBuffer, endsFrame: Bool) throws(WebSocketProtocolError) -> Action {
        if case .inMessage(let size, var validator?) = self.message {
            guard payload.withUnsafeReadableBytes({ validator.feed($0) }) else {
                throw WebSocketProtocolError(.invalidPayload, "text message is not valid UTF-8")
            }
            self.message = .inMessage(size: size, validator: validator)
        }
        if endsFrame { try self.finishFrame() }
        return .forward(.payload(payload, endsFrame: endsFrame))
    }

    /// Called when the current data frame's payload is complete: a final frame ends the message.
    private mutating func finishFrame() throws(WebSocketProtocolError) {
        guard self.frameIsFinal else { return }
        if case .inMessage(_, let validator?) = self.message, !validator.isComplete {
            throw WebSocketProtocolError(.invalidPayload, "text message ends inside a UTF-8 sequence")
        }
        self.message = .idle
    }

    private func receiveControlFrame(_ header: WebSocketFrameHeader, payload: ByteBuffer) throws(WebSocketProtocolError) -> Action
    {
        try self.checkMasking(header)
        guard header.reservedBits == 0 else {
            throw WebSocketProtocolError(.protocolError, "reserved bits set on a control frame")
        }
        switch header.opcode {
        case .ping:
            return .sendPong(payload)
        case .pong:
            return .pongReceived
        default:
            return .closeReceived(try Self.parseClosePayload(payload))
        }
    }

    /// Validates a close frame's payload: empty, or a permitted code and a UTF-8 reason.
    static func parseClosePayload(_ payload: ByteBuffer) throws(WebSocketProtocolError) -> WebSocketCloseStatus {
        var payload = payload
        guard payload.readableBytes > 0 else { return WebSocketCloseStatus(code: nil) }
        guard let raw = payload.readInteger(as: UInt16.self) else {
            throw WebSocketProtocolError(.protocolError, "close frame with a one-byte payload")
        }
        let code = WebSocketCloseCode(rawValue: raw)
        guard code.isAllowedOnWire else {
            throw WebSocketProtocolError(.protocolError, "close code \(raw) is not allowed")
        }
        var validator = UTF8Validator()
        guard validator.feed(payload.readableBytesView), validator.isComplete else {
            throw WebSocketProtocolError(.invalidPayload, "close reason is not valid UTF-8")
        }
        return WebSocketCloseStatus(code: code, reason: String(buffer: payload))
    }
}
