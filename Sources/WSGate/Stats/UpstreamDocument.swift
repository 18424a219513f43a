/// One upstream's figures in `/stats` (`upstreams.NAME`; docs/stats.md).
struct UpstreamDocument: Encodable, Sendable {
    /// One endpoint of a pooled (`websocket-h2`) upstream.
    struct PoolEndpoint: Encodable, Sendable {
        var endpoint: String
        var healthy: Bool
        var healthyLoops: Int
        var loops: Int
        var connectionsOpen: Int
        var streamsActive: Int
        var streamsOpened: Int
        var streamsFailed: Int
        var streamsRefused: Int
        var goaways: Int
        var connectFailures: Int
        var sessionsLost: Int

        enum CodingKeys: String, CodingKey {
            case endpoint, healthy
            case healthyLoops = "healthy_loops"
            case loops
            case connectionsOpen = "connections_open"
            case streamsActive = "streams_active"
            case streamsOpened = "streams_opened"
            case streamsFailed = "streams_failed"
            case streamsRefused = "streams_refused"
            case goaways
            case connectFailures = "connect_failures"
            case sessionsLost = "sessions_lost"
        }

        init(_ stats: UpstreamEndpointStats) {
            self.endpoint = stats.endpoint
            self.healthy = stats.isHealthy
            self.healthyLoops = stats.healthyLoops
            self.loops = stats.loops
            self.connectionsOpen = stats.connectionsOpen
            self.streamsActive = stats.streamsActive
            self.streamsOpened = stats.counters.streamsOpened
            self.streamsFailed = stats.counters.streamsFailed
            self.streamsRefused = stats.counters.streamsRefused
            self.goaways = stats.counters.goAways
            self.connectFailures = stats.counters.connectFailures
            self.sessionsLost = stats.counters.sessionsLost
        }
    }

    var `protocol`: String
    var connects: Int
    /// By reason (`unreachable`, `refused`, ...).
    var connectFailures: [String: Int]
    var connectSeconds: HistogramDocument<Double>
    /// Open connections by endpoint, endpoints with none left out.
    var connections: [String: Int]
    /// Pooled (HTTP/2) upstreams: the pool's state per endpoint; `null` for other protocols.
    @EncodedAsNull var pool: [PoolEndpoint]?
    /// Every endpoint, in configuration order: health and open connections (empty for the echo).
    var endpoints: [UpstreamEndpointDocument]

    enum CodingKeys: String, CodingKey {
        case `protocol`, connects
        case connectFailures = "connect_failures"
        case connectSeconds = "connect_seconds"
        case connections, pool, endpoints
    }

    init(
        _ figures: UpstreamStats,
        protocol: String,
        pool: [UpstreamEndpointStats]?,
        endpoints: [UpstreamEndpointHealth]
    ) {
        self.protocol = `protocol`
        self.connects = figures.connects
        self.connectFailures = figures.connectFailures
        self.connectSeconds = HistogramDocument(nanoseconds: figures.connectNanoseconds)
        self.connections = figures.openConnections.filter { $0.value != 0 }
        self.pool = pool.map { $0.map(PoolEndpoint.init) }
        self.endpoints = endpoints.map { UpstreamEndpointDocument($0, connections: figures.openConnections[$0.endpoint] ?? 0) }
    }
}
