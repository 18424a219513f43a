import NIOCore

/// Reads the frames a WebSocket server sends, streaming: a data frame's payload is skipped as it
/// arrives (the load generator counts bytes, it never looks at them), so a 16 KiB frame is never
/// gathered in memory. Control frames are returned whole (they are at most 125 bytes).
///
/// This is deliberately minimal (no extensions, no UTF-8 check): it is a load generator's reader,
/// not a conformance checker, and it must cost the same against every server.
struct ServerFrameReader {
    /// What the bytes read so far complete.
    enum Event: Equatable {
        /// This many payload bytes of a data message arrived.
        case payload(Int)
        /// The current data message is complete (its final frame's payload has all arrived).
        case messageEnd
        /// A ping with its payload, to be answered with a pong.
        case ping(ByteBuffer)
        /// A pong (ignored by the caller).
        case pong
        /// A close frame.
        case close
        /// The server broke a rule this reader relies on (masked frame, reserved opcode,
        /// oversized control frame).
        case violation(String)
    }

    /// Payload bytes of the current data frame still to come.
    private var remaining = 0
    /// Whether the current data frame is the last of its message.
    private var finalFrame = false
    /// Whether a data frame's payload is being read.
    private var inDataFrame = false

    /// Consumes bytes from `buffer` up to the next event, or returns nil when `buffer` does not
    /// hold enough for one (whatever is left is a partial frame header or control frame, which the
    /// caller keeps and prepends to the next read).
    mutating func next(from buffer: inout ByteBuffer) -> Event? {
        if self.inDataFrame {
            if self.remaining > 0 {
                let count = min(self.remaining, buffer.readableBytes)
                guard count > 0 else { return nil }
                buffer.moveReaderIndex(forwardBy: count)
                self.remaining -= count
                return .payload(count)
            }
            self.inDataFrame = false
            if self.finalFrame {
                return .messageEnd
            }
        }
        return self.readHeader(from: &buffer)
    }

    private mutating func readHeader(from buffer: inout ByteBuffer) -> Event? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
        else { return nil }
        if second & 0x80 != 0 {
            return .violation("masked frame from the server")
        }
        var headerLength = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self) else { return nil }
            headerLength = 4
            length = Int(extended)
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt64.self) else { return nil }
            guard extended <= UInt64(Int.max) else { return .violation("frame length over 2^63") }
            headerLength = 10
            length = Int(extended)
        }
        let fin = first & 0x80 != 0
        let opcode = first & 0x0F
        switch opcode {
        case 0x0, 0x1, 0x2:
            buffer.moveReaderIndex(forwardBy: headerLength)
            self.inDataFrame = true
            self.finalFrame = fin
            self.remaining = length
            return .payload(0)
        case 0x8, 0x9, 0xA:
            guard length <= 125, fin else { return .violation("control frame over 125 bytes or fragmented") }
            guard buffer.readableBytes >= headerLength + length else { return nil }
            buffer.moveReaderIndex(forwardBy: headerLength)
            let payload = buffer.readSlice(length: length)!
            switch opcode {
            case 0x8: return .close
            case 0x9: return .ping(payload)
            default: return .pong
            }
        default:
            return .violation("reserved opcode \(opcode)")
        }
    }
}
