import NIOWebSocket

/// Follows the data frames of one direction of a session to tell where messages start and end:
/// a message starts with a non-continuation frame and ends when the payload of its `fin` frame has
/// all arrived. Payloads arrive in slices, so the frame's announced length is counted down.
struct MessageSizeTracker: Sendable, Equatable {
    private var remainingInFrame = 0
    private var finalFrame = false
    private var size = 0

    /// A frame header arrived. Returns whether it starts a message, and the size of the message it
    /// completes when the frame is a final frame without payload.
    mutating func frameHead(_ head: WebSocketDataFrameHead) -> (startsMessage: Bool, completedSize: Int?) {
        let starts = head.opcode != .continuation
        if starts { self.size = 0 }
        self.remainingInFrame = head.payloadLength
        self.finalFrame = head.fin
        return (starts, self.completeIfDone())
    }

    /// `count` payload bytes arrived. Returns the message's size when they complete it.
    mutating func payload(_ count: Int) -> Int? {
        self.size += count
        self.remainingInFrame -= count
        return self.completeIfDone()
    }

    private mutating func completeIfDone() -> Int? {
        guard self.remainingInFrame <= 0, self.finalFrame else { return nil }
        self.finalFrame = false
        return self.size
    }
}
