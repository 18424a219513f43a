import NIOCore
import NIOWebSocket

/// The header of one WebSocket frame (RFC 6455 section 5.2), without its payload.
///
/// The gateway streams payloads, so header and payload travel separately through the pipeline.
struct WebSocketFrameHeader: Equatable, Sendable {
    var fin: Bool
    /// The three reserved bits as they appear in the first header byte (0x40 = RSV1, 0x20, 0x10).
    var reservedBits: UInt8
    var opcode: WebSocketOpcode
    var maskKey: WebSocketMaskingKey?
    var payloadLength: Int

    init(fin: Bool, reservedBits: UInt8 = 0, opcode: WebSocketOpcode, maskKey: WebSocketMaskingKey? = nil, payloadLength: Int) {
        self.fin = fin
        self.reservedBits = reservedBits
        self.opcode = opcode
        self.maskKey = maskKey
        self.payloadLength = payloadLength
    }

    static let rsv1: UInt8 = 0x40

    /// The number of bytes `write(to:)` produces.
    var encodedSize: Int {
        let lengthBytes: Int
        switch self.payloadLength {
        case 0...125: lengthBytes = 0
        case 126...Int(UInt16.max): lengthBytes = 2
        default: lengthBytes = 8
        }
        return 2 + lengthBytes + (self.maskKey == nil ? 0 : 4)
    }

    /// Appends the encoded header to `buffer`.
    func write(to buffer: inout ByteBuffer) {
        let first = (self.fin ? 0x80 : 0) | (self.reservedBits & 0x70) | UInt8(webSocketOpcode: self.opcode)
        let maskBit: UInt8 = self.maskKey == nil ? 0 : 0x80
        // Whole words rather than byte by byte: each write is a pass through ByteBuffer's setter.
        switch self.payloadLength {
        case 0...125:
            buffer.writeInteger(UInt16(first) << 8 | UInt16(maskBit | UInt8(self.payloadLength)))
        case 126...Int(UInt16.max):
            buffer.writeInteger(UInt32(first) << 24 | UInt32(maskBit | 126) << 16 | UInt32(self.payloadLength))
        default:
            buffer.writeInteger(UInt16(first) << 8 | UInt16(maskBit | 127))
            buffer.writeInteger(UInt64(self.payloadLength))
        }
        if let maskKey = self.maskKey {
            buffer.writeInteger(
                UInt32(maskKey[0]) << 24 | UInt32(maskKey[1]) << 16 | UInt32(maskKey[2]) << 8 | UInt32(maskKey[3])
            )
        }
    }
}
