import NIOCore

extension Gateway {
    /// Hands the upstreams of `active` to every EventLoop's ``UpstreamLoopState`` (at start and after
    /// each reload): unchanged ones keep their openers and pools, removed or changed ones are shut
    /// down, new HTTP/2 pools dial their warm connections (`connections_per_loop`).
    func adoptUpstreams(_ active: ActiveConfiguration) async {
        let services = self.services
        let clusters = active.clusters
        for eventLoop in self.group.makeIterator() {
            try? await eventLoop.submit {
                GatewayLoopState.current(for: services).upstreams.adopt(clusters, on: eventLoop)
            }.get()
        }
    }

    /// Stops every loop's HTTP/2 pools: waiting sessions fail, idle connections close, busy ones close
    /// after their last session; nothing is dialed any more.
    func shutdownUpstreams() async {
        let services = self.services
        _ = try? await self.onEachEventLoop {
            GatewayLoopState.current(for: services).upstreams.shutdown()
        }
    }

    /// The pools of every `websocket-h2` upstream, per endpoint, by upstream name: connections open,
    /// streams active, streams opened/failed/refused, GOAWAYs, connect failures and health.
    ///
    /// Each EventLoop's pools are read on that loop (nothing is locked on the frame path), so call it
    /// from outside the loops, e.g. from the admin endpoint's handler via a `Task`. Upstreams of other
    /// protocols are absent.
    func upstreamPoolStats() async -> [String: [UpstreamEndpointStats]] {
        let services = self.services
        let clusters = self.activeConfiguration.clusters
        let perLoop = (try? await self.onEachEventLoop { GatewayLoopState.current(for: services).upstreams.poolStats() }) ?? []
        return UpstreamLoopState.sum(perLoop, clusters: clusters)
    }

    /// Every upstream's endpoints as the openers see them (health, back-off, sessions), by upstream
    /// name; read on each EventLoop like ``upstreamPoolStats()``. The echo upstream is absent.
    func upstreamEndpointHealth() async -> [String: [UpstreamEndpointHealth]] {
        let services = self.services
        let clusters = self.activeConfiguration.clusters
        let now = NIODeadline.now()
        let perLoop =
            (try? await self.onEachEventLoop { GatewayLoopState.current(for: services).upstreams.endpointHealth(at: now) }) ?? []
        return UpstreamLoopState.sum(perLoop, clusters: clusters)
    }
}
