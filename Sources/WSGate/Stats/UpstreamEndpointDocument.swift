/// One endpoint of an upstream in `/stats` (`upstreams.NAME.endpoints[]`; docs/stats.md): its health
/// as the openers see it and the connections open to it.
struct UpstreamEndpointDocument: Encodable, Sendable {
    var endpoint: String
    /// Not in connect back-off on any EventLoop.
    var healthy: Bool
    var healthyLoops: Int
    var loops: Int
    /// The most connect failures in a row on one loop.
    var failuresInARow: Int
    /// Sessions using it or opening a leg to it.
    var sessions: Int
    /// Open TCP connections to it (one-to-one legs, or the pool's connections).
    var connections: Int
    /// The keep-alive pool of proxied HTTP requests, summed over the loops; absent without one.
    var httpPool: HTTPPool?

    struct HTTPPool: Encodable, Sendable {
        var open: Int
        var idle: Int
        var connected: Int
        var reused: Int
        var staleRetries: Int

        enum CodingKeys: String, CodingKey {
            case open, idle, connected, reused
            case staleRetries = "stale_retries"
        }
    }

    enum CodingKeys: String, CodingKey {
        case endpoint, healthy
        case healthyLoops = "healthy_loops"
        case loops
        case failuresInARow = "failures_in_a_row"
        case sessions, connections
        case httpPool = "http_pool"
    }

    init(_ health: UpstreamEndpointHealth, connections: Int) {
        self.endpoint = health.endpoint
        self.healthy = health.isHealthy
        self.healthyLoops = health.healthyLoops
        self.loops = health.loops
        self.failuresInARow = health.failuresInARow
        self.sessions = health.activeLegs
        self.connections = connections
        self.httpPool = health.httpPool.map {
            HTTPPool(open: $0.open, idle: $0.idle, connected: $0.connected, reused: $0.reused, staleRetries: $0.staleRetries)
        }
    }
}
