/// Counters of one endpoint's HTTP/2 pool on one EventLoop, since start.
struct HTTP2PoolCounters: Sendable, Equatable {
    /// Extended CONNECTs answered 2xx: tunnels opened for sessions.
    var streamsOpened = 0
    /// Streams that failed before their tunnel opened: a non-2xx answer, a broken answer, a reset
    /// other than REFUSED_STREAM, or no stream in time.
    var streamsFailed = 0
    /// Streams the server refused with REFUSED_STREAM before answering.
    var streamsRefused = 0
    /// GOAWAY frames received.
    var goAways = 0
    /// Dials that failed, and connections that closed before the server's first SETTINGS.
    var connectFailures = 0
    /// Sessions whose connection was lost under them (their clients got close 1014).
    var sessionsLost = 0

    init() {}

    /// How one extended CONNECT ended.
    enum StreamOutcome {
        case opened
        case failed
        case refused
    }

    mutating func record(_ outcome: StreamOutcome) {
        switch outcome {
        case .opened: self.streamsOpened += 1
        case .failed: self.streamsFailed += 1
        case .refused: self.streamsRefused += 1
        }
    }

    static func + (lhs: HTTP2PoolCounters, rhs: HTTP2PoolCounters) -> HTTP2PoolCounters {
        var sum = lhs
        sum.streamsOpened += rhs.streamsOpened
        sum.streamsFailed += rhs.streamsFailed
        sum.streamsRefused += rhs.streamsRefused
        sum.goAways += rhs.goAways
        sum.connectFailures += rhs.connectFailures
        sum.sessionsLost += rhs.sessionsLost
        return sum
    }
}

/// A snapshot of one `websocket-h2` upstream endpoint, summed over the EventLoops' pools.
///
/// Read with ``Gateway/upstreamPoolStats()``, which submits a task to each EventLoop (the pools are
/// loop-confined; nothing on the frame path is locked or atomic). Gauges are as of that task on each
/// loop, so the sum is not one instant across loops.
struct UpstreamEndpointStats: Sendable, Equatable {
    /// `host:port` as written in the configuration.
    var endpoint: String
    /// Connections past their first SETTINGS and not yet closed (ready or draining after GOAWAY).
    var connectionsOpen = 0
    /// Streams carrying sessions (or reserved for one whose extended CONNECT is on its way).
    var streamsActive = 0
    /// Counters since start.
    var counters = HTTP2PoolCounters()
    /// EventLoops on which the endpoint is healthy: not in connect back-off and accepting extended
    /// CONNECT. The endpoint is healthy when `healthyLoops == loops`.
    var healthyLoops = 0
    /// EventLoops that have a pool for this endpoint.
    var loops = 0

    var isHealthy: Bool { self.healthyLoops == self.loops }

    init(endpoint: String) {
        self.endpoint = endpoint
    }

    static func + (lhs: UpstreamEndpointStats, rhs: UpstreamEndpointStats) -> UpstreamEndpointStats {
        var sum = lhs
        sum.connectionsOpen += rhs.connectionsOpen
        sum.streamsActive += rhs.streamsActive
        sum.counters = sum.counters + rhs.counters
        sum.healthyLoops += rhs.healthyLoops
        sum.loops += rhs.loops
        return sum
    }
}
