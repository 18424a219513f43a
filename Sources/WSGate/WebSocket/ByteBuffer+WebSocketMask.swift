import NIOCore
import NIOWebSocket

extension WebSocketMaskingKey {
    /// The key repeated over eight bytes, as if the payload started at byte `offset` of the frame's
    /// payload, in memory order (for XORing a little-endian load).
    func pattern(offset: Int) -> UInt64 {
        let rotation = offset & 3
        var pattern: UInt64 = 0
        for index in 0..<8 {
            pattern |= UInt64(self[(index + rotation) & 3]) << (8 * index)
        }
        return UInt64(littleEndian: pattern)
    }
}

extension UnsafeMutableRawBufferPointer {
    /// XORs the bytes with a masking pattern (``WebSocketMaskingKey/pattern(offset:)``), eight at a time.
    func applyWebSocketMask(pattern: UInt64) {
        let count = self.count
        var index = 0
        while index + 8 <= count {
            let word = self.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            self.storeBytes(of: word ^ pattern, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        // The tail: the pattern's bytes in memory order, one per remaining byte.
        var tail = UInt64(littleEndian: pattern)
        while index < count {
            self[index] ^= UInt8(truncatingIfNeeded: tail)
            tail >>= 8
            index += 1
        }
    }
}

extension ByteBuffer {
    /// XORs the readable bytes with the masking key, as if they started at byte `offset` of the
    /// frame's payload (RFC 6455 section 5.3). Masking and unmasking are the same operation.
    ///
    /// Our own rather than NIO's `webSocketMask`, which works byte by byte with a modulo per byte:
    /// every payload byte of every frame passes through here once on each leg, so this does eight
    /// bytes per step, and allocates nothing.
    mutating func applyWebSocketMask(_ key: WebSocketMaskingKey, offset: Int) {
        let pattern = key.pattern(offset: offset)
        self.withUnsafeMutableReadableBytes { $0.applyWebSocketMask(pattern: pattern) }
    }
}
