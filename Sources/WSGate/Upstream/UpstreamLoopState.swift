import NIOCore

/// One gateway's upstream state on one EventLoop: per upstream, this loop's opener (the endpoints'
/// order and health, the sessions using each, and for `websocket-h2` the HTTP/2 pools), so that a
/// session only ever uses its own loop's and nothing is locked.
///
/// Held by the gateway's per-loop state; loop-confined. Readers run on each loop.
final class UpstreamLoopState {
    private struct Entry {
        /// The ``UpstreamCluster/generation`` of the newest cluster seen for the upstream (a reload
        /// makes new ones).
        var generation: UInt64
        var opener: UpstreamLoopOpener
    }

    private var entries: [String: Entry] = [:]
    /// The newest cluster generation ``adopt(_:on:)`` took: an earlier cluster without an entry is
    /// of an upstream a reload removed.
    private var adoptedGeneration: UInt64 = 0
    private var isShutDown = false

    init() {}

    /// The opener of `cluster`'s upstream on this loop, made on first use. A cluster of a changed
    /// configuration (a reload) gets a new one, the old one shut down; an unchanged one keeps it. A
    /// handshake that began before a reload still holds the earlier cluster: it is served by the
    /// opener in place (the upstream's current one), or, for an upstream the reload removed, by one
    /// made for it alone and stopped at once (it dials no warm connections and keeps nothing).
    func opener(for cluster: UpstreamCluster, on eventLoop: any EventLoop) -> UpstreamLoopOpener {
        let name = cluster.configuration.name
        if let entry = self.entries[name] {
            if cluster.generation <= entry.generation { return entry.opener }
            if entry.opener.configuration == cluster.configuration {
                self.entries[name]?.generation = cluster.generation
                return entry.opener
            }
            entry.opener.shutdown()
        }
        let opener = UpstreamLoopOpener(
            configuration: cluster.configuration,
            tls: cluster.tls,
            logger: cluster.logger,
            eventLoop: eventLoop
        )
        guard cluster.generation > self.adoptedGeneration || self.entries[name] != nil else {
            opener.shutdown()
            return opener
        }
        if self.isShutDown { opener.shutdown() }
        self.entries[name] = Entry(generation: cluster.generation, opener: opener)
        return opener
    }

    /// Takes the upstreams now served, at start and after each reload: an unchanged upstream keeps
    /// its opener (an HTTP/2 pool its connections); a removed or changed one's is shut down (its
    /// pools take no new stream and close each connection after its last session); each upstream
    /// has its opener from now on (a new pool dials its warm connections at once).
    func adopt(_ clusters: [String: UpstreamCluster], on eventLoop: any EventLoop) {
        for (name, entry) in self.entries where clusters[name] == nil {
            entry.opener.shutdown()
            self.entries[name] = nil
        }
        for cluster in clusters.values where cluster.configuration.protocol != .echo {
            _ = self.opener(for: cluster, on: eventLoop)
        }
        self.adoptedGeneration = max(self.adoptedGeneration, clusters.values.map(\.generation).max() ?? 0)
    }

    /// Stops every pool; openers made later are stopped at once.
    func shutdown() {
        self.isShutDown = true
        for entry in self.entries.values { entry.opener.shutdown() }
    }

    /// This loop's pools per endpoint, by upstream name.
    func poolStats() -> [String: [UpstreamEndpointStats]] {
        self.entries.compactMapValues(\.opener.poolStats)
    }

    /// This loop's view of each endpoint, by upstream name.
    func endpointHealth(at now: NIODeadline) -> [String: [UpstreamEndpointHealth]] {
        self.entries.mapValues { $0.opener.endpointHealth(at: now) }
    }

    /// The endpoints of every upstream of `clusters` but the echo, summed over the loops'
    /// ``endpointHealth(at:)``; an endpoint no loop has an opener for yet shows zeros.
    static func sum(
        _ perLoop: [[String: [UpstreamEndpointHealth]]],
        clusters: [String: UpstreamCluster]
    ) -> [String: [UpstreamEndpointHealth]] {
        var result: [String: [UpstreamEndpointHealth]] = [:]
        for (name, cluster) in clusters where cluster.configuration.protocol != .echo {
            var byEndpoint: [String: UpstreamEndpointHealth] = [:]
            for health in perLoop.flatMap({ $0[name] ?? [] }) {
                byEndpoint[health.endpoint] = byEndpoint[health.endpoint].map { $0 + health } ?? health
            }
            result[name] = cluster.configuration.endpoints.map {
                byEndpoint[$0.description] ?? UpstreamEndpointHealth(endpoint: $0.description)
            }
        }
        return result
    }

    /// The pools of every `websocket-h2` upstream of `clusters`, per endpoint, summed over the loops'
    /// ``poolStats()``; an endpoint without a pool yet shows zeros.
    static func sum(
        _ perLoop: [[String: [UpstreamEndpointStats]]],
        clusters: [String: UpstreamCluster]
    ) -> [String: [UpstreamEndpointStats]] {
        var result: [String: [UpstreamEndpointStats]] = [:]
        for (name, cluster) in clusters where cluster.configuration.protocol == .websocketH2 {
            var byEndpoint: [String: UpstreamEndpointStats] = [:]
            for stats in perLoop.flatMap({ $0[name] ?? [] }) {
                byEndpoint[stats.endpoint] = byEndpoint[stats.endpoint].map { $0 + stats } ?? stats
            }
            result[name] = cluster.configuration.endpoints.map {
                byEndpoint[$0.description] ?? UpstreamEndpointStats(endpoint: $0.description)
            }
        }
        return result
    }
}

@available(*, unavailable)
extension UpstreamLoopState: Sendable {}
