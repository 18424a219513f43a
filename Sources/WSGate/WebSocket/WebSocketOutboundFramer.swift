import NIOCore
import NIOWebSocket

/// Encodes the frames one leg sends, streaming data frames and slotting control frames in between.
///
/// A data frame's header goes out before its payload has arrived from the other leg, so a control frame
/// (pong, ping, close) cannot be written while a data frame is unfinished: it waits here until the
/// frame's last payload byte has been written (RFC 6455 section 5.4 allows control frames only
/// between frames).
struct WebSocketOutboundFramer {
    private let role: WebSocketRole
    /// Whether a data frame's head went out and its last payload slice has not.
    private(set) var isInsideFrame = false
    /// The mask of the data frame in progress, and where in it the next payload byte falls.
    private var maskKey: WebSocketMaskingKey?
    private var maskOffset = 0
    private var pendingControlFrames: [ByteBuffer] = []
    /// Where in `pendingControlFrames` the queued pong is, if one is.
    private var pendingPongIndex: Int?
    private var maskingKeys = MaskingKeyGenerator()

    init(role: WebSocketRole) {
        self.role = role
    }

    /// The largest unmasked payload slice copied in behind its frame's header (one buffer, one write
    /// instead of two); a larger one goes out as it is, after the header. A slice to be masked is
    /// always copied: it shares its storage with the read it came from, so masking it in place would
    /// copy it anyway.
    static let maxCopiedPayload = 1024

    /// Encodes a data frame header.
    mutating func encodeHead(_ head: WebSocketDataFrameHead, allocator: ByteBufferAllocator) -> ByteBuffer {
        self.startFrame(head, extraCapacity: 0, allocator: allocator)
    }

    /// Encodes a data frame header and the frame's first payload slice (masked on the client role):
    /// in one buffer when the slice is to be masked or is at most ``maxCopiedPayload`` bytes, else
    /// the header, and the slice as `rest`, to be written after it. The frame is complete if the
    /// slice `endsFrame`.
    mutating func encodeHead(
        _ head: WebSocketDataFrameHead,
        firstPayload payload: ByteBuffer,
        endsFrame: Bool,
        allocator: ByteBufferAllocator
    ) -> (start: ByteBuffer, rest: ByteBuffer?) {
        let copies = self.role == .client || payload.readableBytes <= Self.maxCopiedPayload
        var start = self.startFrame(head, extraCapacity: copies ? payload.readableBytes : 0, allocator: allocator)
        guard copies else {
            return (start, self.encodePayload(payload, endsFrame: endsFrame))
        }
        let headerSize = start.readableBytes
        start.writeImmutableBuffer(payload)
        if let maskKey = self.maskKey {
            let pattern = maskKey.pattern(offset: 0)
            start.withUnsafeMutableReadableBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: bytes[headerSize...]).applyWebSocketMask(pattern: pattern)
            }
            self.maskOffset = payload.readableBytes
        }
        self.isInsideFrame = !endsFrame
        return (start, nil)
    }

    private mutating func startFrame(
        _ head: WebSocketDataFrameHead,
        extraCapacity: Int,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        precondition(!self.isInsideFrame, "a data frame header before the previous frame's last payload slice")
        let maskKey = self.role == .client ? self.maskingKeys.next() : nil
        let header = WebSocketFrameHeader(
            fin: head.fin,
            reservedBits: head.compressed ? WebSocketFrameHeader.rsv1 : 0,
            opcode: head.opcode,
            maskKey: maskKey,
            payloadLength: head.payloadLength
        )
        var buffer = allocator.buffer(capacity: header.encodedSize + extraCapacity)
        header.write(to: &buffer)
        self.isInsideFrame = !head.endsFrame
        self.maskKey = maskKey
        self.maskOffset = 0
        return buffer
    }

    /// Encodes a payload slice of the current data frame (masking it on the client role); the frame is
    /// complete after the slice that `endsFrame`.
    mutating func encodePayload(_ payload: ByteBuffer, endsFrame: Bool) -> ByteBuffer {
        precondition(self.isInsideFrame, "a payload slice outside a data frame")
        var payload = payload
        if let maskKey = self.maskKey {
            payload.applyWebSocketMask(maskKey, offset: self.maskOffset)
            self.maskOffset += payload.readableBytes
        }
        self.isInsideFrame = !endsFrame
        return payload
    }

    /// Encodes a control frame, or queues it while a data frame is in progress (a queued pong replaces
    /// the one queued before it, so the queue stays bounded however often the peer pings).
    /// Returns the encoded frame if it may be written now.
    mutating func encodeControl(_ opcode: WebSocketOpcode, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        var payload = payload
        let maskKey = self.role == .client ? self.maskingKeys.next() : nil
        let header = WebSocketFrameHeader(fin: true, opcode: opcode, maskKey: maskKey, payloadLength: payload.readableBytes)
        var buffer = allocator.buffer(capacity: header.encodedSize + payload.readableBytes)
        header.write(to: &buffer)
        if let maskKey {
            payload.applyWebSocketMask(maskKey, offset: 0)
        }
        buffer.writeBuffer(&payload)
        guard self.isInsideFrame else { return buffer }
        if opcode == .pong, let queued = self.pendingPongIndex {
            self.pendingControlFrames[queued] = buffer
        } else {
            if opcode == .pong { self.pendingPongIndex = self.pendingControlFrames.count }
            self.pendingControlFrames.append(buffer)
        }
        return nil
    }

    /// Control frames that were waiting for the data frame that has just been completed.
    mutating func takeControlFramesIfBetweenFrames() -> [ByteBuffer] {
        guard !self.isInsideFrame, !self.pendingControlFrames.isEmpty else { return [] }
        defer {
            self.pendingControlFrames.removeAll()
            self.pendingPongIndex = nil
        }
        return self.pendingControlFrames
    }

    /// Encodes a close frame's payload: code and reason, or nothing for "no status".
    static func closePayload(_ status: WebSocketCloseStatus, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard let code = status.code else { return allocator.buffer(capacity: 0) }
        var buffer = allocator.buffer(capacity: 2 + status.reason.utf8.count)
        buffer.writeInteger(code.rawValue)
        // A close frame's payload is at most 125 bytes: truncate the reason on a character boundary.
        var reason = Substring(status.reason)
        while reason.utf8.count > 123 { reason = reason.dropLast() }
        buffer.writeString(String(reason))
        return buffer
    }
}

extension WebSocketOutboundFramer {
    /// Forgets queued control frames (the connection is being dropped mid-frame).
    mutating func discardPendingControlFrames() {
        self.pendingControlFrames.removeAll()
        self.pendingPongIndex = nil
    }
}
