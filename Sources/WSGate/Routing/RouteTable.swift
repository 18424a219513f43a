// TEMPORARY STUB (replaced by the router module)
public struct RouteSelection: Sendable { public let route: RouteConfiguration; public let upstreamPath: String }
public struct RouteTable: Sendable {
    public var routes: [RouteConfiguration]
    public init(configuration: GatewayConfiguration) { self.routes = configuration.routes }
    public var description: String { "" }
    public func match(host: String?, path: String, headers: some Sequence<(name: String, value: String)>) -> RouteSelection? {
        routes.first.map { RouteSelection(route: $0, upstreamPath: path) }
    }
}
