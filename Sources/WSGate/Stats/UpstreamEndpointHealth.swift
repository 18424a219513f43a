/// How the openers see one upstream endpoint, summed over the EventLoops (each loop keeps its own
/// health and back-off, ``UpstreamOpenerStateMachine``): for `/stats` and the dashboard.
struct UpstreamEndpointHealth: Sendable, Equatable {
    /// `host:port` as written in the configuration.
    var endpoint: String
    /// EventLoops on which the endpoint is not in back-off.
    var healthyLoops = 0
    /// EventLoops that have an opener for the upstream.
    var loops = 0
    /// The most connect failures in a row on one loop (0: the last attempt everywhere succeeded).
    var failuresInARow = 0
    /// Sessions using the endpoint or opening a leg to it (proxied HTTP requests in flight too).
    var activeLegs = 0
    /// The keep-alive pools of proxied HTTP requests (`websocket` and `http` upstreams), nil without.
    var httpPool: HTTP1PoolFigures?

    init(endpoint: String) {
        self.endpoint = endpoint
    }

    var isHealthy: Bool { self.healthyLoops == self.loops }

    static func + (lhs: Self, rhs: Self) -> Self {
        var sum = lhs
        sum.healthyLoops += rhs.healthyLoops
        sum.loops += rhs.loops
        sum.failuresInARow = max(lhs.failuresInARow, rhs.failuresInARow)
        sum.activeLegs += rhs.activeLegs
        if let pool = rhs.httpPool {
            sum.httpPool = sum.httpPool.map { $0 + pool } ?? pool
        }
        return sum
    }
}
