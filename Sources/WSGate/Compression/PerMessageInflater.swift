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
    /// Whether the frame in progress ends the compressed message.
    private var frameIsFinal = false
    /// The last output chunk, held back until it is known whether it ends the message (it gets FIN).
    private var heldChunk: ByteBuffer?
    /// Compressed input not inflated yet: inflation stopped because the other leg could take no more.
    private var pendingInput: PendingInput?

    private struct PendingInput {
        var input: ByteBuffer
        var endsMessage: Bool
        /// Whether the 0x00 0x00 0xff 0xff tail is what `input` holds now.
        var inTail = false
    }

    /// - Parameters:
    ///   - pool: the EventLoop's shared inflaters when the client does not take over context, else nil.
    init(
        windowBits: Int,
        maxMessageSize: Int,
        pool: ZlibStreamPool<ZlibInflater>?,
        memory: ZlibMemoryCounter,
        counters: CompressionCounters
    ) {
        self.maxMessageSize = maxMessageSize
        self.streams = ZlibStreamSource(pool: pool) { ZlibInflater(windowBits: windowBits, memory: memory) }
        self.counters = counters
    }

    /// Whether this connection holds zlib state of its own right now.
    var holdsStream: Bool { self.streams.holdsStream }

    /// Whether inflation stopped before the end of the input it was given (``resume(allocator:mayContinue:emit:)``).
    var hasPendingInput: Bool { self.pendingInput != nil }

    /// Takes one event from the client's endpoint and emits what the session should receive.
    /// Inflation stops as soon as `mayContinue` says no after an output chunk; the rest of the input is
    /// kept (``hasPendingInput``), and no further event may be given before ``resume(allocator:mayContinue:emit:)``
    /// has finished it.
    mutating func receive(
        _ event: WebSocketFrameEvent,
        allocator: ByteBufferAllocator,
        mayContinue: () -> Bool = { true },
        emit: (WebSocketFrameEvent) -> Void
    ) throws(WebSocketProtocolError) {
        precondition(self.pendingInput == nil, "an event while inflation is paused")
        switch event {
        case .frameHead(let head):
            if self.streams.current != nil {
                // A continuation of the compressed message (the endpoint checked RSV1 and ordering).
                self.frameIsFinal = head.fin
                if head.endsFrame { try self.finishFrame(allocator: allocator, mayContinue: mayContinue, emit: emit) }
            } else if head.compressed {
                self.startMessage(head)
                if head.endsFrame { try self.finishFrame(allocator: allocator, mayContinue: mayContinue, emit: emit) }
            } else {
                emit(event)
            }
        case .payload(let payload, let endsFrame):
            guard self.streams.current != nil else {
                emit(event)
                return
            }
            self.counters.inboundCompressedBytes += payload.readableBytes
            self.pendingInput = PendingInput(input: payload, endsMessage: endsFrame && self.frameIsFinal)
            try self.inflatePending(allocator: allocator, mayContinue: mayContinue, emit: emit)
        case .close, .failed:
            emit(event)
        }
    }

    /// Goes on inflating the input kept when inflation stopped.
    mutating func resume(
        allocator: ByteBufferAllocator,
        mayContinue: () -> Bool,
        emit: (WebSocketFrameEvent) -> Void
    ) throws(WebSocketProtocolError) {
        try self.inflatePending(allocator: allocator, mayContinue: mayContinue, emit: emit)
    }

    /// Frees the connection's zlib state (the connection is gone).
    mutating func release() {
        self.pendingInput = nil
        self.heldChunk = nil
        self.streams.release()
    }

    private mutating func startMessage(_ head: WebSocketDataFrameHead) {
        _ = self.streams.beginMessage()
        self.opcode = head.opcode
        self.emittedFrame = false
        self.inflatedSize = 0
        self.heldChunk = nil
        self.validator = head.opcode == .text ? UTF8Validator() : nil
        self.frameIsFinal = head.fin
    }

    /// A frame with an empty payload: only the end of the message matters.
    private mutating func finishFrame(
        allocator: ByteBufferAllocator,
        mayContinue: () -> Bool,
        emit: (WebSocketFrameEvent) -> Void
    ) throws(WebSocketProtocolError) {
        guard self.frameIsFinal else { return }
        self.pendingInput = PendingInput(input: allocator.buffer(capacity: 0), endsMessage: true)
        try self.inflatePending(allocator: allocator, mayContinue: mayContinue, emit: emit)
    }

    private mutating func sendFrame(_ chunk: ByteBuffer, fin: Bool, emit: (WebSocketFrameEvent) -> Void) {
        emit(
            .frameHead(
                WebSocketDataFrameHead(
                    opcode: self.emittedFrame ? .continuation : self.opcode,
                    fin: fin,
                    payloadLength: chunk.readableBytes
                )
            )
        )
        if chunk.readableBytes > 0 { emit(.payload(chunk, endsFrame: true)) }
        self.emittedFrame = true
    }

    /// Counts and checks one output chunk, then forwards the chunk held before it.
    private mutating func take(_ chunk: ByteBuffer, emit: (WebSocketFrameEvent) -> Void) throws(WebSocketProtocolError) {
        self.inflatedSize += chunk.readableBytes
        guard self.inflatedSize <= self.maxMessageSize else {
            throw WebSocketProtocolError(exceeding: .maxMessage, "inflated message exceeds max_message \(self.maxMessageSize)")
        }
        if self.validator != nil {
            guard chunk.withUnsafeReadableBytes({ self.validator!.feed($0) }) else {
                throw WebSocketProtocolError(.invalidPayload, "text message is not valid UTF-8")
            }
        }
        if let previous = self.heldChunk { self.sendFrame(previous, fin: false, emit: emit) }
        self.heldChunk = chunk
    }

    private mutating func inflatePending(
        allocator: ByteBufferAllocator,
        mayContinue: () -> Bool,
        emit: (WebSocketFrameEvent) -> Void
    ) throws(WebSocketProtocolError) {
        guard var pending = self.pendingInput, let inflater = self.streams.current else {
            self.pendingInput = nil
            return
        }
        self.pendingInput = nil
        while true {
            var failure: WebSocketProtocolError?
            let finished: Bool
            do throws(InflateFailure<Never>) {
                finished = try inflater.inflate(&pending.input, chunkSize: Self.chunkSize, allocator: allocator) {
                    (chunk: ByteBuffer) throws(Never) -> Bool in
                    do throws(WebSocketProtocolError) {
                        try self.take(chunk, emit: emit)
                    } catch {
                        failure = error
                        return false
                    }
                    return mayContinue()
                }
            } catch {
                switch error {
                case .zlib(let zlibError):
                    throw WebSocketProtocolError(.invalidPayload, "invalid compressed data: \(zlibError.message)")
                case .body(let never):
                    switch never {}
                }
            }
            if let failure { throw failure }
            guard finished else {
                self.pendingInput = pending
                return
            }
            guard pending.endsMessage, !pending.inTail else { break }
            pending.inTail = true
            pending.input = allocator.buffer(bytes: Self.tail)
        }
        if pending.endsMessage {
            if let validator = self.validator, !validator.isComplete {
                throw WebSocketProtocolError(.invalidPayload, "text message ends inside a UTF-8 sequence")
            }
            let last = self.heldChunk ?? allocator.buffer(capacity: 0)
            self.heldChunk = nil
            self.sendFrame(last, fin: true, emit: emit)
            self.endMessage()
        } else if let held = self.heldChunk {
            self.heldChunk = nil
            self.sendFrame(held, fin: false, emit: emit)
        }
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
