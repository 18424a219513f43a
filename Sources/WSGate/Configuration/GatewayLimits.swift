/// Connection limits over the whole gateway (YAML `limits`), next to each route's
/// `limits.max_connections`. A handshake over any of them is answered 503 with `Retry-After` and
/// counted as a limit hit.
public struct GatewayLimits: Sendable, Equatable {
    /// The most client connections the gateway serves at once, over all routes (handshakes in
    /// progress included). `0` means no limit. Default: 0.
    public var maxConnections: Int
    /// The most connections one client IP address may have at once, over all routes. `0` means no
    /// limit. Default: 0.
    public var maxConnectionsPerIP: Int
    /// The `Retry-After` value of a 503 answered for a connection limit, whole seconds (rounded up).
    /// Default: 1 s.
    public var retryAfter: Duration

    /// Creates gateway limits; by default none.
    public init(maxConnections: Int = 0, maxConnectionsPerIP: Int = 0, retryAfter: Duration = .seconds(1)) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.retryAfter = retryAfter
    }
}
