import NIOCore
import NIOWebSocket

/// Compresses the messages sent to a client (RFC 7692 section 7.2.1) as their frames stream in from
/// the upstream leg.
///
/// A frame header carries its payload length, which compression changes, so the output is re-framed:
/// each payload slice is deflated as it arrives and what zlib emits goes out as a frame of its own;
/// the end of every upstream frame is a sync flush, and the last frame of the message loses the
/// `00 00 ff ff` tail. RSV1 is set on the message's first frame only. A message known to be small
/// (a single final frame under `min_size`) is sent uncompressed.
struct PerMessageDeflater {
    private static let tail: [UInt8] = [0x00, 0x00, 0xff, 0xff]

    private let minSize: Int
    /// The connection's own compressor, or the loop's shared ones; `current` is the compressor of
    /// the message in progress.
    private var streams: ZlibStreamSource<ZlibDeflater>
    private let counters: CompressionCounters

    /// Inside a compressed message (messages sent uncompressed pass through in one frame).
    private var inMessage = false
    private var opcode: WebSocketOpcode = .binary
    private var emittedFrame = false
    /// Whether the upstream frame in progress ends the message.
    private var frameIsFinal = false
    private var uncompressedSize = 0
    private var compressedSize = 0

    init(
        parameters: ZlibStreamParameters,
        minSize: Int,
        pool: ZlibStreamPool<ZlibDeflater>?,
        memory: ZlibMemoryCounter,
        counters: CompressionCounters
    ) {
        self.minSize = minSize
        self.streams = ZlibStreamSource(pool: pool) { ZlibDeflater(parameters: parameters, memory: memory) }
        self.counters = counters
    }

    /// Whether this connection holds zlib state of its own right now.
    var holdsStream: Bool { self.streams.holdsStream }

    /// Takes one event from the session and emits what the client's endpoint should send.
    mutating func send(
        _ event: WebSocketFrameEvent,
        allocator: ByteBufferAllocator,
        emit: (WebSocketFrameEvent) -> Void
    ) throws(ZlibError) {
        switch (self.inMessage, event) {
        case (false, .frameHead(let head)):
            if head.fin && head.payloadLength < self.minSize {
                self.counters.outboundSkippedMessages += 1
                emit(event)
                return
            }
            self.startMessage(head)
            if head.endsFrame { try self.finishFrame(allocator: allocator, emit: emit) }
        case (true, .frameHead(let head)):
            self.frameIsFinal = head.fin
            if head.endsFrame { try self.finishFrame(allocator: allocator, emit: emit) }
        case (true, .payload(let payload, let endsFrame)):
            self.uncompressedSize += payload.readableBytes
            try self.deflate(payload, endsFrame: endsFrame, allocator: allocator, emit: emit)
        case (false, .payload), (_, .close), (_, .failed):
            emit(event)
        }
    }

    /// Frees the connection's zlib state (the connection is gone).
    mutating func release() {
        self.streams.release()
    }

    private mutating func startMessage(_ head: WebSocketDataFrameHead) {
        _ = self.streams.beginMessage()
        self.inMessage = true
        self.opcode = head.opcode
        self.emittedFrame = false
        self.frameIsFinal = head.fin
        self.uncompressedSize = 0
        self.compressedSize = 0
    }

    private mutating func finishFrame(allocator: ByteBufferAllocator, emit: (WebSocketFrameEvent) -> Void) throws(ZlibError) {
        try self.deflate(allocator.buffer(capacity: 0), endsFrame: true, allocator: allocator, emit: emit)
    }

    private mutating func deflate(
        _ payload: ByteBuffer,
        endsFrame: Bool,
        allocator: ByteBufferAllocator,
        emit: (WebSocketFrameEvent) -> Void
    ) throws(ZlibError) {
        guard let deflater = self.streams.current else { return }
        let endsMessage = endsFrame && self.frameIsFinal
        var output = try deflater.deflate(payload, syncFlush: endsFrame, allocator: allocator)
        if endsMessage {
            if output.readableBytes >= 4, output.readableBytesView.suffix(4).elementsEqual(Self.tail) {
                output.moveWriterIndex(to: output.writerIndex - 4)
            } else if output.readableBytes == 0 {
                // zlib emits nothing for a flush right after a flush (the message's last upstream frame
                // was empty), and the previous frame already ended with an unstripped 00 00 ff ff. The
                // receiver's appended tail then needs a block header in front of it: 0x00 begins an
                // empty stored block that the tail completes (RFC 7692 section 7.2.3.6).
                output.writeInteger(UInt8(0))
            }
        }
        if output.readableBytes > 0 || endsMessage {
            emit(
                .frameHead(
                    WebSocketDataFrameHead(
                        opcode: self.emittedFrame ? .continuation : self.opcode,
                        fin: endsMessage,
                        compressed: !self.emittedFrame,
                        payloadLength: output.readableBytes
                    )
                )
            )
            if output.readableBytes > 0 { emit(.payload(output, endsFrame: true)) }
            self.emittedFrame = true
            self.compressedSize += output.readableBytes
        }
        if endsMessage { self.endMessage() }
    }

    private mutating func endMessage() {
        self.counters.outboundMessages += 1
        self.counters.outboundUncompressedBytes += self.uncompressedSize
        self.counters.outboundCompressedBytes += self.compressedSize
        self.inMessage = false
        self.streams.endMessage()
    }
}
