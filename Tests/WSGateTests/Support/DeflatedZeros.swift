import NIOCore
import NIOWebSocket

@testable import WSGate

/// `size` zero bytes as one permessage-deflate message body (no context takeover, level 9): a
/// compression bomb of about size / 1000 bytes.
func deflatedZeros(size: Int) throws -> [UInt8] {
    let allocator = ByteBufferAllocator()
    var deflater = PerMessageDeflater(
        parameters: ZlibStreamParameters(windowBits: 15, memoryLevel: 8, level: 9),
        minSize: 0,
        pool: nil,
        memory: ZlibMemoryCounter(),
        counters: CompressionCounters()
    )
    var compressed: [UInt8] = []
    try deflater.send(
        .frameHead(WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: size)),
        allocator: allocator
    ) { _ in }
    try deflater.send(.payload(allocator.buffer(repeating: 0, count: size), endsFrame: true), allocator: allocator) { event in
        if case .payload(let payload, _) = event { compressed += payload.readableBytesView }
    }
    return compressed
}
