/// The outcome of routing one upgrade request: the route it takes and what to send upstream.
public struct RouteSelection: Sendable, Equatable {
    /// The first route, in file order, whose conditions the request met.
    public let route: RouteConfiguration
    /// The request target for the upstream: the client's target after `rewrite_prefix`, with the
    /// query string preserved; the client's target unchanged when the route does not rewrite.
    public let upstreamPath: String

    /// Creates a selection.
    public init(route: RouteConfiguration, upstreamPath: String) {
        self.route = route
        self.upstreamPath = upstreamPath
    }
}
