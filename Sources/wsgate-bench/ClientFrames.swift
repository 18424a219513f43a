import NIOCore

/// The frames the load generator sends, built once and masked as RFC 6455 section 5.3 requires
/// of a client.
///
/// A connection sends the same pre-masked message frame over and over (one mask key per
/// connection rather than one per frame): a server cannot tell the difference, and it keeps the
/// client's cost per message to a retained buffer and a write, the same against every server.
enum ClientFrames {
    /// A final binary frame carrying `size` bytes (0, 1, 2, ... mod 251), masked with `maskKey`.
    static func binaryMessage(size: Int, maskKey: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = allocator.buffer(capacity: size)
        for index in 0..<size {
            payload.writeInteger(UInt8(index % 251))
        }
        return self.frame(opcode: 0x2, payload: payload, maskKey: maskKey, allocator: allocator)
    }

    /// The same message compressed with permessage-deflate (RSV1 set), for connections that
    /// negotiated it.
    static func compressedBinaryMessage(size: Int, maskKey: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer {
        let compressed = ClientDeflate.compress((0..<size).map { UInt8($0 % 251) })
        return self.frame(
            opcode: 0x2,
            rsv1: true,
            payload: allocator.buffer(bytes: compressed),
            maskKey: maskKey,
            allocator: allocator
        )
    }

    /// A close frame with code 1000 (normal closure).
    static func close(maskKey: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = allocator.buffer(capacity: 2)
        payload.writeInteger(UInt16(1000))
        return self.frame(opcode: 0x8, payload: payload, maskKey: maskKey, allocator: allocator)
    }

    /// A pong answering a ping with `payload`.
    static func pong(payload: ByteBuffer, maskKey: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer {
        self.frame(opcode: 0xA, payload: payload, maskKey: maskKey, allocator: allocator)
    }

    private static func frame(
        opcode: UInt8,
        rsv1: Bool = false,
        payload: ByteBuffer,
        maskKey: UInt32,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        let size = payload.readableBytes
        var frame = allocator.buffer(capacity: size + 14)
        frame.writeInteger(0x80 | (rsv1 ? 0x40 : 0) | opcode)
        if size < 126 {
            frame.writeInteger(0x80 | UInt8(size))
        } else if size <= Int(UInt16.max) {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(size))
        } else {
            frame.writeInteger(UInt8(0x80 | 127))
            frame.writeInteger(UInt64(size))
        }
        frame.writeInteger(maskKey)
        let key = withUnsafeBytes(of: maskKey.bigEndian) { Array($0) }
        for (index, byte) in payload.readableBytesView.enumerated() {
            frame.writeInteger(byte ^ key[index & 3])
        }
        return frame
    }
}
