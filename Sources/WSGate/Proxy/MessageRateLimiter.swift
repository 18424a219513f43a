import NIOCore

/// Counts a client's data messages in one-second windows (`limits.max_messages_per_second`).
struct MessageRateLimiter {
    private let limit: Int
    private var windowStart: NIODeadline
    private var count = 0

    init(limit: Int, now: NIODeadline) {
        self.limit = limit
        self.windowStart = now
    }

    /// Records the start of a message; returns false when it exceeds the limit for the current window.
    mutating func allowMessage(at now: NIODeadline) -> Bool {
        if now - self.windowStart >= .seconds(1) {
            self.windowStart = now
            self.count = 0
        }
        self.count += 1
        return self.count <= self.limit
    }
}
