/// What one session moved so far, counted on the session itself (for `/stats/connections` and the
/// access log) and folded into its route's counters when it ends.
struct SessionTraffic: Sendable, Equatable {
    /// Data messages, counted once per message at its first frame.
    var messages = PerDirection<Int>.zero
    /// Payload bytes as the upstream leg sees them (after inflation).
    var bytes = PerDirection<Int>.zero
    /// Where each direction's messages start and end, for the message size histogram.
    var trackers = PerDirection(MessageSizeTracker())

    /// Counts a data frame's header read in `direction` (a new message at its first frame); returns
    /// the size of the message it completes (a final frame without payload), if it does.
    mutating func frameHead(_ head: WebSocketDataFrameHead, direction: TrafficDirection) -> Int? {
        let (startsMessage, completedSize) = self.trackers[direction].frameHead(head)
        if startsMessage {
            self.messages[direction] += 1
        }
        return completedSize
    }

    /// Counts a payload slice read in `direction`; returns the size of the message it completes, if any.
    mutating func payload(_ bytes: Int, endsFrame: Bool, direction: TrafficDirection) -> Int? {
        self.bytes[direction] += bytes
        return self.trackers[direction].payload(bytes, endsFrame: endsFrame)
    }
}
