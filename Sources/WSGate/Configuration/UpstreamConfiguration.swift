/// A named group of backend endpoints that routes forward WebSocket connections to.
struct UpstreamConfiguration: Sendable, Equatable {
    /// The upstream's name, the key it has under `upstreams` in YAML.
    var name: String
    /// How the gateway talks to this upstream. Default: ``UpstreamProtocol/websocket``.
    var `protocol`: UpstreamProtocol
    /// The backend addresses, picked by `balance`. Non-empty for `websocket` and `websocket-h2`, empty for `echo`.
    var endpoints: [SocketAddressSpec]
    /// How long dialing one endpoint may take before it counts as failed. Default: 5 s.
    var connectTimeout: Duration
    /// TLS to the endpoints. Default: none (plain TCP).
    var tls: UpstreamTLSConfiguration?
    /// How new sessions pick an endpoint. Default: ``UpstreamBalance/roundRobin``.
    var balance: UpstreamBalance
    /// The HTTP/2 connection pools (`websocket-h2` only). Default: ``HTTP2PoolConfiguration/init()``.
    var pool: HTTP2PoolConfiguration
    /// The keep-alive pools of proxied HTTP requests (`websocket` and `http` only). Default:
    /// ``HTTPPoolConfiguration/init(maxIdlePerLoop:idleTimeout:maxRequests:)``.
    var httpPool: HTTPPoolConfiguration
    /// Drops every client header whose name contains `_`, as nginx does by default
    /// (`underscores_in_headers off`), for apps that fold `_` into `-`. Spellings of the gateway's own
    /// headers are dropped either way. Default: `false`.
    var dropUnderscoreHeaders: Bool

    /// The connect timeout used when the configuration does not set one: 5 seconds.
    static let defaultConnectTimeout = Duration.seconds(5)

    /// Creates an upstream configuration, without validation.
    init(
        name: String,
        protocol: UpstreamProtocol = .websocket,
        endpoints: [SocketAddressSpec] = [],
        connectTimeout: Duration = UpstreamConfiguration.defaultConnectTimeout,
        tls: UpstreamTLSConfiguration? = nil,
        balance: UpstreamBalance = .roundRobin,
        pool: HTTP2PoolConfiguration = HTTP2PoolConfiguration(),
        httpPool: HTTPPoolConfiguration = HTTPPoolConfiguration(),
        dropUnderscoreHeaders: Bool = false
    ) {
        self.name = name
        self.protocol = `protocol`
        self.endpoints = endpoints
        self.connectTimeout = connectTimeout
        self.tls = tls
        self.balance = balance
        self.pool = pool
        self.httpPool = httpPool
        self.dropUnderscoreHeaders = dropUnderscoreHeaders
    }
}

/// The protocol spoken to an upstream. Default: `websocket`.
enum UpstreamProtocol: String, Sendable, Equatable, CaseIterable {
    /// One upstream WebSocket over HTTP/1.1 per client connection.
    case websocket
    /// Each client session is a stream (RFC 8441 extended CONNECT) on a pooled HTTP/2 connection
    /// owned by the client's EventLoop: h2c with prior knowledge, or TLS with ALPN `h2`. Plain HTTP
    /// requests are ordinary streams of the same pool.
    case websocketH2 = "websocket-h2"
    /// A built-in, in-process echo service; takes no endpoints. Useful for smoke tests and demos.
    case echo
    /// An app that serves HTTP only (no WebSockets): plain HTTP/1.1 requests on pooled keep-alive
    /// connections.
    case http

    /// The kinds of request this protocol carries: `websocket` upgrades and HTTP, one of them, or
    /// (the echo) WebSocket only.
    var serves: RouteKinds {
        switch self {
        case .websocket, .websocketH2: return .both
        case .echo: return .websocket
        case .http: return .http
        }
    }
}
