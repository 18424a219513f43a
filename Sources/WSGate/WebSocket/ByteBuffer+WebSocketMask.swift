import NIOCore
import NIOWebSocket

extension ByteBuffer {
    /// XORs the readable bytes with the masking key, as if they started at byte `offset` of the
    /// frame's payload (RFC 6455 section 5.3). Masking and unmasking are the same operation.
    ///
    /// Our own rather than NIO's `webSocketMask`, which works byte by byte with a modulo per byte:
    /// every payload byte of every frame passes through here once on each leg, so this does eight
    /// bytes per step.
    mutating func applyWebSocketMask(_ key: WebSocketMaskingKey, offset: Int) {
        let rotation = offset & 3
        let rotated = (0..<4).map { key[($0 + rotation) & 3] }
        var pattern: UInt64 = 0
        for index in 0..<8 {
            pattern |= UInt64(rotated[index & 3]) << (8 * index)
        }
        let littleEndianPattern = UInt64(littleEndian: pattern)
        self.withUnsafeMutableReadableBytes { bytes in
            let count = bytes.count
            var index = 0
            while index + 8 <= count {
                let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                bytes.storeBytes(of: word ^ littleEndianPattern, toByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < count {
                bytes[index] ^= rotated[index & 3]
                index += 1
            }
        }
    }
}
