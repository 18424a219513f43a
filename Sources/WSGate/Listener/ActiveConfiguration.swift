/// The configuration the gateway serves new connections with: the validated file, its route table
/// and one `UpstreamCluster` per upstream. Immutable; a reload builds a new one, and sessions keep
/// the one they started with.
final class ActiveConfiguration: Sendable {
    let configuration: GatewayConfiguration
    let routeTable: RouteTable
    let clusters: [String: UpstreamCluster]

    init(_ configuration: GatewayConfiguration) {
        self.configuration = configuration
        self.routeTable = RouteTable(configuration: configuration)
        self.clusters = configuration.upstreams.mapValues { UpstreamCluster(configuration: $0) }
    }
}
