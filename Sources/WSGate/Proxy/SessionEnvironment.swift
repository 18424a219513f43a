/// What the sessions of one gateway on one EventLoop share besides their legs: where they are
/// listed, where they are counted, the loop's zlib state, and the access log.
///
/// The gateway hands one to each accepted connection (built from its per-loop state); it is used
/// only on that loop.
struct SessionEnvironment {
    /// The live sessions of the gateway on this loop.
    let sessions: SessionRegistry
    /// The gateway's counters on this loop.
    let stats: StatsLoopState
    /// The loop's zlib memory counter and shared streams.
    let compression: CompressionLoopState
    /// Set when `log.access` is configured.
    let accessLog: AccessLog?
    /// Whether messages and bytes are counted (`admin.stats`).
    let countsTraffic: Bool
}

@available(*, unavailable)
extension SessionEnvironment: Sendable {}
