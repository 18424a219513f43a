/// What an HTTP proxy connection works with, fixed when its first request arrived: the routes and
/// upstreams served then, the loop's openers and counters, the access log, who the client is.
struct HTTPProxyContext {
    let routeTable: RouteTable
    /// The upstreams by name.
    let clusters: [String: UpstreamCluster]
    /// The authentication of each route with `auth`, by route name: each request is checked.
    let authenticators: [String: RouteAuthenticator]
    /// The openers and pools of the upstreams on the connection's loop.
    let upstreamLoop: UpstreamLoopState
    /// What `limits.max_memory` is checked against: each request is refused (503) near it.
    let memory: GatewayMemory
    /// The gateway's counters on the connection's loop.
    let stats: StatsLoopState
    /// Where the memory budget finds the connection.
    let registry: HTTPProxyRegistry
    let accessLog: AccessLog?
    /// Who the client is, for the forwarding fields.
    let client: ForwardedRequest.Client
    /// `limits.retry_after` in whole seconds, for the `Retry-After` of a 503.
    let retryAfterSeconds: Int
    /// How long the connection may wait for its next request (`defaults.limits.handshake_timeout`).
    let keepAliveTimeout: Duration
    /// `defaults.limits.max_headers`: every request of the connection is held to it (431).
    let maxHeaders: Int
    /// Whether the client's channel is an HTTP/2 stream (one exchange; no `bufferedWritableBytes`).
    var isStream = false
}

@available(*, unavailable)
extension HTTPProxyContext: Sendable {}
