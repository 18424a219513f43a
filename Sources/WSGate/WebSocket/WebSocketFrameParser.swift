import NIOCore
import NIOWebSocket

/// An incremental WebSocket frame parser that never buffers a data frame's payload.
///
/// NIO's `WebSocketFrameDecoder` delivers whole frames, so a 256 MiB frame would need 256 MiB of memory.
/// This parser hands out a data frame's header as soon as it is complete and then its payload in the
/// slices that arrive from the socket, unmasked. Control frames (at most 125 bytes) are delivered whole.
struct WebSocketFrameParser {
    enum Event: Equatable {
        /// The header of a data frame (text, binary, continuation); its payload follows as `dataPayload`
        /// (nothing follows a header announcing no payload: it ends its frame).
        case dataFrameHeader(WebSocketFrameHeader)
        /// The next slice of the current data frame's payload, unmasked; `endsFrame` on its last one.
        case dataPayload(ByteBuffer, endsFrame: Bool)
        /// A complete control frame with its unmasked payload.
        case controlFrame(WebSocketFrameHeader, ByteBuffer)
    }

    private enum State {
        case header
        /// Streaming a data frame: bytes still to come and the mask offset of the next byte.
        case dataPayload(remaining: Int, maskKey: WebSocketMaskingKey?, maskOffset: Int)
        case controlPayload(WebSocketFrameHeader)
    }

    private var state: State = .header
    /// The largest frame payload accepted; bigger frames fail with 1009 (`max_frame`) before any payload is read.
    let maxFrameSize: Int

    init(maxFrameSize: Int) {
        self.maxFrameSize = maxFrameSize
    }

    /// Consumes bytes from `buffer` and returns the next event, or nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> Event? {
        switch self.state {
        case .header:
            guard let header = try Self.readHeader(from: &buffer, maxFrameSize: self.maxFrameSize) else {
                return nil
            }
            if header.opcode.isControlOpcode {
                self.state = .controlPayload(header)
                return try self.next(&buffer)
            }
            if header.payloadLength > 0 {
                self.state = .dataPayload(remaining: header.payloadLength, maskKey: header.maskKey, maskOffset: 0)
            }
            return .dataFrameHeader(header)

        case .dataPayload(let remaining, let maskKey, let maskOffset):
            let count = min(remaining, buffer.readableBytes)
            guard count > 0, var slice = buffer.readSlice(length: count) else { return nil }
            if let maskKey {
                slice.applyWebSocketMask(maskKey, offset: maskOffset)
            }
            let endsFrame = remaining == count
            if endsFrame {
                self.state = .header
            } else {
                self.state = .dataPayload(remaining: remaining - count, maskKey: maskKey, maskOffset: maskOffset + count)
            }
            return .dataPayload(slice, endsFrame: endsFrame)

        case .controlPayload(let header):
            guard var payload = buffer.readSlice(length: header.payloadLength) else { return nil }
            if let maskKey = header.maskKey {
                payload.applyWebSocketMask(maskKey, offset: 0)
            }
            self.state = .header
            return .controlFrame(header, payload)
        }
    }

    /// Reads a complete frame header, or nothing (leaving `buffer` untouched) if it is not all there yet.
    private static func readHeader(
        from buffer: inout ByteBuffer,
        maxFrameSize: Int
    ) throws(WebSocketProtocolError) -> WebSocketFrameHeader? {
        var view = buffer
        guard let first = view.readInteger(as: UInt8.self), let second = view.readInteger(as: UInt8.self) else {
            return nil
        }
        guard let opcode = WebSocketOpcode(encodedWebSocketOpcode: first & 0x0F), Self.isDefined(opcode) else {
            throw WebSocketProtocolError(.protocolError, "reserved opcode \(first & 0x0F)")
        }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        var length = Int(second & 0x7F)
        if opcode.isControlOpcode {
            guard length <= 125 else { throw WebSocketProtocolError(.protocolError, "control frame payload over 125 bytes") }
            guard fin else { throw WebSocketProtocolError(.protocolError, "fragmented control frame") }
        }
        switch length {
        case 126:
            guard let extended = view.readInteger(as: UInt16.self) else { return nil }
            length = Int(extended)
        case 127:
            guard let extended = view.readInteger(as: UInt64.self) else { return nil }
            guard extended & (1 << 63) == 0 else {
                throw WebSocketProtocolError(.protocolError, "payload length with the most significant bit set")
            }
            guard extended <= UInt64(maxFrameSize) else {
                throw WebSocketProtocolError(exceeding: .maxFrame, "frame of \(extended) bytes exceeds max_frame \(maxFrameSize)")
            }
            length = Int(extended)
        default:
            break
        }
        guard length <= maxFrameSize else {
            throw WebSocketProtocolError(exceeding: .maxFrame, "frame of \(length) bytes exceeds max_frame \(maxFrameSize)")
        }
        var maskKey: WebSocketMaskingKey?
        if masked {
            guard view.readableBytes >= 4 else { return nil }
            maskKey = WebSocketMaskingKey(view.readableBytesView.prefix(4))
            view.moveReaderIndex(forwardBy: 4)
        }
        buffer = view
        return WebSocketFrameHeader(fin: fin, reservedBits: first & 0x70, opcode: opcode, maskKey: maskKey, payloadLength: length)
    }

    private static func isDefined(_ opcode: WebSocketOpcode) -> Bool {
        switch opcode {
        case .continuation, .text, .binary, .connectionClose, .ping, .pong: return true
        default: return false
        }
    }
}
