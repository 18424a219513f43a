/// Connection limits over the whole gateway (YAML `limits`), next to each route's
/// `limits.max_connections`. A handshake over any of them is answered 503 with `Retry-After` and
/// counted as a limit hit.
public struct GatewayLimits: Sendable, Equatable {
    /// The most client connections the gateway serves at once, over all routes, counted from accept
    /// (connections that have not sent a byte yet included). `0` means no limit. Default: 0.
    public var maxConnections: Int
    /// The most connections one client IP address may have at once, over all routes, counted from
    /// accept. `0` means no limit. Default: 0.
    public var maxConnectionsPerIP: Int
    /// The most connections whose handshake (TLS included) is not finished; past it a new connection
    /// is closed as soon as it is accepted, with nothing read or answered. `0` means no limit.
    /// Default: 1024.
    public var maxPendingHandshakes: Int
    /// The `Retry-After` value of a 503 answered for a connection limit, whole seconds (rounded up).
    /// Default: 1 s.
    public var retryAfter: Duration

    /// Creates gateway limits; by default none.
    public init(maxConnections: Int = 0, maxConnectionsPerIP: Int = 0, maxPendingHandshakes: Int = 1024, retryAfter: Duration = .seconds(1)) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.maxPendingHandshakes = maxPendingHandshakes
        self.retryAfter = retryAfter
    }
}
