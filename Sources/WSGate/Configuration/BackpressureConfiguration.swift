/// How much data may wait for a slow side of a session, and what happens when a side stays slow.
///
/// Bytes queued toward a leg above `highWater` pause reads on the other leg of that session only;
/// reads resume below `lowWater`. A side that keeps the session paused for `maxStall`, or lets more than
/// `maxBuffered` bytes pile up, hits the limit: with `onLimit: .close` the session ends (1008 toward a
/// slow client, 1013 toward the client when the upstream is the slow one); with `.pause` it stays
/// paused. In YAML: `defaults.backpressure`, overridable per route under `backpressure`.
struct BackpressureConfiguration: Sendable, Equatable {
    /// What a session does when a side hits the limit.
    enum LimitAction: String, Sendable, Equatable, CaseIterable {
        case close
        case pause
    }

    /// Bytes queued toward a leg at which the other leg stops reading. Default: 1 MiB.
    var highWater: Int
    /// Bytes queued toward a leg below which the other leg reads again. Default: 256 KiB.
    var lowWater: Int
    /// Hard ceiling on bytes queued toward a leg. Default: 8 MiB.
    var maxBuffered: Int
    /// How long a session may stay paused by one side before that side hits the limit. Default: 30 s.
    var maxStall: Duration
    /// Default: `close`.
    var onLimit: LimitAction

    init(
        highWater: Int = 1024 * 1024,
        lowWater: Int = 256 * 1024,
        maxBuffered: Int = 8 * 1024 * 1024,
        maxStall: Duration = .seconds(30),
        onLimit: LimitAction = .close
    ) {
        self.highWater = highWater
        self.lowWater = lowWater
        self.maxBuffered = maxBuffered
        self.maxStall = maxStall
        self.onLimit = onLimit
    }
}
