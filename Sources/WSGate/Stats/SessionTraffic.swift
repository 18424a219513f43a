/// What one session moved so far, counted on the session itself (for `/stats/connections` and the
/// access log) and folded into its route's counters when it ends.
struct SessionTraffic: Sendable, Equatable {
    /// Data messages, counted once per message at its first frame.
    var messages = PerDirection<Int>.zero
    /// Payload bytes as the upstream leg sees them (after inflation).
    var bytes = PerDirection<Int>.zero
    /// Where each direction's messages start and end, for the message size histogram.
    var trackers = PerDirection(MessageSizeTracker())
}
