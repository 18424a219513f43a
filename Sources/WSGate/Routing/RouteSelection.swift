/// The outcome of routing one upgrade request: the route it takes and what to send upstream.
struct RouteSelection: Sendable, Equatable {
    /// The first route, in file order, whose conditions the request met.
    let route: RouteConfiguration
    /// The request target for the upstream: the client's target after `rewrite_prefix`, with the
    /// query string preserved; the client's target unchanged when the route does not rewrite.
    let upstreamPath: String

    /// Creates a selection.
    init(route: RouteConfiguration, upstreamPath: String) {
        self.route = route
        self.upstreamPath = upstreamPath
    }
}
