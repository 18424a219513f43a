/// The stats counters of one gateway on one EventLoop: per route and per upstream, created on first use.
///
/// Each EventLoop thread has its own instance per gateway (``GatewayLoopState``), used only on that
/// thread, so counting needs no lock; sessions look their route's counters up once, when they start.
/// Readers run on each loop (``Gateway/onEachEventLoop(_:)``) and merge the per-loop ``LoopStatsSnapshot``s.
final class StatsLoopState {
    private var routes: [String: RouteCounters] = [:]
    private var upstreams: [String: UpstreamCounters] = [:]
    /// Client connections by protocol and the HTTP/2 streams.
    let protocols = ClientProtocolCounters()

    /// The counters of `route` on this loop; ``StatsLoopState/unrouted`` for handshakes refused
    /// before a route was chosen.
    func route(_ name: String) -> RouteCounters {
        if let counters = self.routes[name] { return counters }
        let counters = RouteCounters()
        self.routes[name] = counters
        return counters
    }

    func upstream(_ name: String) -> UpstreamCounters {
        if let counters = self.upstreams[name] { return counters }
        let counters = UpstreamCounters()
        self.upstreams[name] = counters
        return counters
    }

    /// The key of the figures of handshakes refused before a route matched (404, 431, ...).
    static let unrouted = ""

    /// This loop's figures: the routes' counters plus what each `live` session moved so far, and the
    /// compression counters. Call on the loop.
    func snapshot(live: [(route: String, traffic: SessionTraffic)]) -> LoopStatsSnapshot {
        var routes = self.routes.mapValues { counters in
            var stats = counters.stats
            stats.compression = RouteStats.CompressionFigures(counters.compression)
            stats.http = counters.http.stats
            return stats
        }
        for session in live {
            var figures = routes[session.route] ?? RouteStats()
            figures.messages = figures.messages + session.traffic.messages
            figures.bytes = figures.bytes + session.traffic.bytes
            routes[session.route] = figures
        }
        return LoopStatsSnapshot(
            routes: routes,
            upstreams: self.upstreams.mapValues(\.stats),
            sessions: live.count,
            protocols: self.protocols.figures
        )
    }
}

@available(*, unavailable)
extension StatsLoopState: Sendable {}

/// What one EventLoop counted, read on that loop.
struct LoopStatsSnapshot: Sendable {
    var routes: [String: RouteStats]
    var upstreams: [String: UpstreamStats]
    /// Live sessions on the loop.
    var sessions: Int
    var protocols = ClientProtocolFigures()
}

/// The gateway's figures summed over its EventLoops.
struct GatewayStatsSnapshot: Sendable {
    /// By route name; ``StatsLoopState/unrouted`` holds handshakes refused before routing.
    var routes: [String: RouteStats] = [:]
    var upstreams: [String: UpstreamStats] = [:]
    /// Live sessions per EventLoop, in loop order.
    var eventLoopSessions: [Int] = []
    /// The pools of `websocket-h2` upstreams per endpoint, by upstream name (``Gateway/upstreamPoolStats()``).
    var pools: [String: [UpstreamEndpointStats]] = [:]
    /// Every upstream's endpoints as the openers see them, by upstream name (``Gateway/upstreamEndpointHealth()``).
    var endpoints: [String: [UpstreamEndpointHealth]] = [:]
    /// Client connections by protocol and HTTP/2 streams, summed.
    var protocols = ClientProtocolFigures()

    init(loops: [LoopStatsSnapshot]) {
        for loop in loops {
            self.protocols.merge(loop.protocols)
            self.routes.merge(loop.routes) {
                var sum = $0
                sum.merge($1)
                return sum
            }
            self.upstreams.merge(loop.upstreams) {
                var sum = $0
                sum.merge($1)
                return sum
            }
            self.eventLoopSessions.append(loop.sessions)
        }
    }

    /// Every route's figures summed (the unrouted handshake failures included).
    var totals: RouteStats {
        self.routes.values.reduce(into: RouteStats()) { $0.merge($1) }
    }
}
