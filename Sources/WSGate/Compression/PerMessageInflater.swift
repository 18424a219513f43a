import NIOCore
import NIOWebSocket

/// Inflates the compressed messages a client sends (RFC 7692 section 7.2.2) as their frames stream in,
/// and re-frames the output for the uncompressed leg.
///
/// Nothing is buffered whole: each payload slice is inflated as it arrives and its output forwarded
/// as frames of its own (RFC 6455 section 5.4 lets an intermediary re-fragment a message when no
/// extension is negotiated on the other side). The inflated size is checked against `max_message`
/// chunk by chunk, before more is inflated (zip bombs), and inflated text is checked as UTF-8.
/// Uncompressed messages pass through untouched.
struct PerMessageInflater {
    /// The largest output chunk forwarded as one frame.
    static let chunkSize = 64 * 1024
    /// Appended to every message before inflating (section 7.2.2).
    private static let tail: [UInt8] = [0x00, 0x00, 0xff, 0xff]

    private let maxMessageSize: Int
    /// The connection's own inflater, or the loop's shared ones; `current` is the inflater of the
    /// compressed message in progress (nil between messages and for plain ones).
    private var streams: ZlibStreamSource<ZlibInflater>
    private let counters: CompressionCounters
    private var opcode: WebSocketOpcode = .binary
    private var emittedFrame = false
    private var inflatedSize = 0
    private var validator: UTF8Validator?
    private var frameRemaining = 0
    private var frameIsFinal = false

    /// - Parameters:
    ///   - pool: the EventLoop's shared inflaters when the client does not take over context, else nil.
    init(windowBits: Int, maxMessageSize: Int, pool: ZlibStreamPool<ZlibInflater>?, memory: ZlibMemoryCounter, counters: CompressionCounters) {
        self.maxMessageSize = maxMessageSize
        self.streams = ZlibStreamSource(pool: pool) { ZlibInflater(windowBits: windowBits, memory: memory) }
        self.counters = counters
    }

    /// Whether this connection holds zlib state of its own right now.
    var holdsStream: Bool { self.streams.holdsStream }

    /// Takes one event from the client's endpoint and emits what the session should receive.
    mutating func receive(
        _ event: WebSocketFrameEvent,
        allocator: ByteBufferAllocator,
        emit: (WebSocketFrameEvent) -> Void
    ) throws(WebSocketProtocolError) {
        switch event {
        case .frameHead(let head):
            if self.streams.current != nil {
                // A continuation of the compressed message (the endpoint checked RSV1 and ordering).
                self.frameRemaining = head.payloadLength
                self.frameIsFinal = head.fin
                if head.payloadLength == 0 { try self.finishFrame(allocator: allocator, emit: emit) }
            } else if head.compressed {
                self.startMessage(head)
                if head.payloadLength == 0 { try self.finishFrame(allocator: allocator, emit: emit) }
            } else {
                emit(event)
            }
        case .payload(let payload):
            guard self.streams.current != nil else {
                emit(event)
                return
            }
            self.counters.inboundCompressedBytes += payload.readableBytes
            self.frameRemaining -= payload.readableBytes
            let endsMessage = self.frameRemaining == 0 && self.frameIsFinal
            try self.inflate(payload, endsMessage: endsMessage, allocator: allocator, emit: emit)
            if endsMessage { self.endMessage() }
        case .close, .failed:
            emit(event)
        }
    }

    /// Frees the connection's zlib state (the connection is gone).
    mutating func release() {
        self.streams.release()
    }

    private mutating func startMessage(_ head: WebSocketDataFrameHead) {
        _ = self.streams.beginMessage()
        self.opcode = head.opcode
        self.emittedFrame = false
        self.inflatedSize = 0
        self.validator = head.opcode == .text ? UTF8Validator() : nil
        self.frameRemaining = head.payloadLength
        self.frameIsFinal = head.fin
    }

    /// A frame with an empty payload: only the end of the message matters.
    private mutating func finishFrame(allocator: ByteBufferAllocator, emit: (WebSocketFrameEvent) -> Void) throws(WebSocketProtocolError) {
        guard self.frameIsFinal else { return }
        try self.inflate(allocator.buffer(capacity: 0), endsMessage: true, allocator: allocator, emit: emit)
        self.endMessage()
    }

    private mutating func inflate(
        _ payload: ByteBuffer,
        endsMessage: Bool,
        allocator: ByteBufferAllocator,
        emit: (WebSocketFrameEvent) -> Void
    ) throws(WebSocketProtocolError) {
        guard let inflater = self.streams.current else { return }
        // The last chunk of a message is held back until it is known to be the last (it gets FIN).
        var pending: ByteBuffer?
        var size = self.inflatedSize
        var validator = self.validator
        var emittedFrame = self.emittedFrame
        let opcode = self.opcode
        let limit = self.maxMessageSize
        func sendFrame(_ chunk: ByteBuffer, _ fin: Bool) {
            emit(.frameHead(WebSocketDataFrameHead(opcode: emittedFrame ? .continuation : opcode, fin: fin, payloadLength: chunk.readableBytes)))
            if chunk.readableBytes > 0 { emit(.payload(chunk)) }
            emittedFrame = true
        }
        func take(_ chunk: ByteBuffer) throws(WebSocketProtocolError) {
            size += chunk.readableBytes
            guard size <= limit else {
                throw WebSocketProtocolError(.messageTooBig, "inflated message exceeds max_message \(limit)")
            }
            if validator != nil {
                guard chunk.withUnsafeReadableBytes({ validator!.feed($0) }) else {
                    throw WebSocketProtocolError(.invalidPayload, "text message is not valid UTF-8")
                }
            }
            if let previous = pending { sendFrame(previous, false) }
            pending = chunk
        }
        do {
            try inflater.inflate(payload, chunkSize: Self.chunkSize, allocator: allocator, take)
            if endsMessage {
                var tail = allocator.buffer(capacity: 4)
                tail.writeBytes(Self.tail)
                try inflater.inflate(tail, chunkSize: Self.chunkSize, allocator: allocator, take)
            }
        } catch {
            switch error {
            case .zlib(let zlibError):
                throw WebSocketProtocolError(.invalidPayload, "invalid compressed data: \(zlibError.message)")
            case .body(let protocolError):
                throw protocolError
            }
        }
        if endsMessage {
            if let validator, !validator.isComplete {
                throw WebSocketProtocolError(.invalidPayload, "text message ends inside a UTF-8 sequence")
            }
            sendFrame(pending ?? allocator.buffer(capacity: 0), true)
        } else if let pending {
            sendFrame(pending, false)
        }
        self.inflatedSize = size
        self.validator = validator
        self.emittedFrame = emittedFrame
    }

    private mutating func endMessage() {
        guard self.streams.current != nil else { return }
        self.counters.inboundMessages += 1
        self.counters.inboundInflatedBytes += self.inflatedSize
        if let kept = self.streams.endMessage(), kept.needsReset {
            // The message ended with a final deflate block: the stream is over, start a new one.
            kept.reset()
        }
    }
}
