import NIOWebSocket

/// Follows the data frames of one direction of a session to tell where messages start and end:
/// a message starts with a non-continuation frame and ends with the end of its `fin` frame (its last
/// payload slice, or its head when it has no payload).
struct MessageSizeTracker: Sendable, Equatable {
    private var finalFrame = false
    private var size = 0

    /// A frame header arrived. Returns whether it starts a message, and the size of the message it
    /// completes when the frame is a final frame without payload.
    mutating func frameHead(_ head: WebSocketDataFrameHead) -> (startsMessage: Bool, completedSize: Int?) {
        let starts = head.opcode != .continuation
        if starts { self.size = 0 }
        self.finalFrame = head.fin
        return (starts, head.endsFrame ? self.frameEnded() : nil)
    }

    /// `count` payload bytes arrived. Returns the message's size when they end it.
    mutating func payload(_ count: Int, endsFrame: Bool) -> Int? {
        self.size += count
        return endsFrame ? self.frameEnded() : nil
    }

    private mutating func frameEnded() -> Int? {
        guard self.finalFrame else { return nil }
        self.finalFrame = false
        return self.size
    }
}
