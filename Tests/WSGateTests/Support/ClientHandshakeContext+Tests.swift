@testable import WSGate

extension ClientHandshakeContext {
    /// A handshake context without I/O for `configuration`: its upstreams as clusters, no auth, a
    /// 1 GiB memory budget, and `session` (default: a standalone one).
    static func forTests(
        _ configuration: GatewayConfiguration,
        session: SessionEnvironment = .standalone(),
        tlsFailures: TLSHandshakeFailures? = nil
    ) -> ClientHandshakeContext {
        ClientHandshakeContext(
            configuration: configuration,
            routeTable: RouteTable(configuration: configuration),
            clusters: configuration.upstreams.mapValues { UpstreamCluster(configuration: $0) },
            authenticators: [:],
            upstreamLoop: UpstreamLoopState(),
            memory: GatewayMemory(budget: MemoryBudget(limit: 1 << 30)),
            session: session,
            tlsFailures: tlsFailures
        )
    }
}
