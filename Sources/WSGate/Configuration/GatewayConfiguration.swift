/// The whole gateway configuration, as loaded from a YAML file and validated once, up front.
///
/// Build one with ``GatewayConfiguration/load(contentsOf:)`` or ``GatewayConfiguration/parse(yaml:file:)``;
/// both resolve every default, so a loaded value needs no further checks. The memberwise initializer is
/// for tests and embedding and does not validate.
public struct GatewayConfiguration: Sendable, Equatable {
    /// The sockets that accept client WebSocket connections. A loaded configuration has at least one.
    public var listeners: [ListenerConfiguration]
    /// The admin endpoint. Default: listening on `127.0.0.1:9901`.
    public var admin: AdminConfiguration
    /// The upstreams routes can forward to, by name. Default: none.
    public var upstreams: [String: UpstreamConfiguration]
    /// The routes in file order; the first matching route wins. Default: none (every request is refused).
    public var routes: [RouteConfiguration]
    /// Values that apply where a route does not override them. Default: the built-in ``Limits``.
    public var defaults: DefaultsConfiguration
    /// Gateway-wide connection limits (YAML `limits`). Default: none.
    public var limits: GatewayLimits
    /// Logging outputs (YAML `log`). Default: no access log.
    public var log: LogConfiguration
    /// How a graceful shutdown drains sessions. Default: grace 2 s, timeout 10 s.
    public var shutdown: ShutdownConfiguration
    /// How the file is watched for reloads. Default: not watched (SIGHUP and `POST /reload` only).
    public var reload: ReloadConfiguration

    /// Creates a configuration from already-resolved values, without validation.
    public init(
        listeners: [ListenerConfiguration],
        admin: AdminConfiguration = AdminConfiguration(),
        upstreams: [String: UpstreamConfiguration] = [:],
        routes: [RouteConfiguration] = [],
        defaults: DefaultsConfiguration = DefaultsConfiguration(),
        limits: GatewayLimits = GatewayLimits(),
        log: LogConfiguration = LogConfiguration(),
        shutdown: ShutdownConfiguration = ShutdownConfiguration(),
        reload: ReloadConfiguration = ReloadConfiguration()
    ) {
        self.listeners = listeners
        self.admin = admin
        self.upstreams = upstreams
        self.routes = routes
        self.defaults = defaults
        self.limits = limits
        self.log = log
        self.shutdown = shutdown
        self.reload = reload
    }
}

/// A socket that accepts client connections: plain TCP, or TLS when `tls` is set.
public struct ListenerConfiguration: Sendable, Equatable {
    /// A name for logs and metrics. Default in YAML: `listener_<n>`, `n` counting from 1 in file order.
    public var name: String
    /// The address to bind. Required; port 0 binds an ephemeral port.
    public var address: SocketAddressSpec
    /// TLS termination. Default: none (plain `ws://`).
    public var tls: ListenerTLSConfiguration?

    /// Creates a listener configuration.
    public init(name: String, address: SocketAddressSpec, tls: ListenerTLSConfiguration? = nil) {
        self.name = name
        self.address = address
        self.tls = tls
    }
}

/// The admin endpoint: `/stats`, `/stats/connections`, `/metrics`, `/healthz`, `/readyz` and the
/// dashboard at `/`.
public struct AdminConfiguration: Sendable, Equatable {
    /// The address the admin endpoint binds. Default: `127.0.0.1:9901`, loopback only on purpose.
    public var address: SocketAddressSpec
    /// When set, every admin request must carry `Authorization: Bearer <token>` (else 401).
    /// Default: none.
    public var token: String?
    /// Allows a non-loopback `address` without a `token`. Default: `false` (such a file is refused).
    public var allowRemote: Bool
    /// Whether sessions count their messages, bytes and message sizes (a few integer additions per
    /// frame). `false` leaves those figures at zero; connections, closes, handshakes, limits and
    /// upstream figures are counted either way. Default: `true`.
    public var stats: Bool
    /// Admin connections open at once; one more is closed at accept. Default: 64.
    public var maxConnections: Int
    /// An admin connection with no request for this long is closed. Default: 30 s.
    public var idleTimeout: Duration
    /// TLS on the admin listener, the same shape as a listener's `tls`. Default: none (plain HTTP).
    public var tls: ListenerTLSConfiguration?

    /// The admin address used when the configuration does not set one: `127.0.0.1:9901`.
    public static let defaultAddress = SocketAddressSpec(host: "127.0.0.1", port: 9901)

    /// Creates an admin configuration. Default address: `127.0.0.1:9901`, no token, stats on, at most
    /// 64 connections idle for 30 s, no TLS.
    public init(
        address: SocketAddressSpec = AdminConfiguration.defaultAddress,
        token: String? = nil,
        allowRemote: Bool = false,
        stats: Bool = true,
        maxConnections: Int = 64,
        idleTimeout: Duration = .seconds(30),
        tls: ListenerTLSConfiguration? = nil
    ) {
        self.address = address
        self.token = token
        self.allowRemote = allowRemote
        self.stats = stats
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.tls = tls
    }
}

/// Values that apply to every route unless the route overrides them.
public struct DefaultsConfiguration: Sendable, Equatable {
    /// The per-connection limits every route starts from. Default: the built-in ``Limits`` values.
    public var limits: Limits
    /// The backpressure settings every route starts from. Default: the built-in values.
    public var backpressure: BackpressureConfiguration
    /// The permessage-deflate settings every route starts from. Default: the built-in
    /// ``CompressionConfiguration`` values (enabled, context takeover).
    public var compression: CompressionConfiguration

    /// Creates the defaults section from the built-in values unless given.
    public init(
        limits: Limits = Limits(),
        backpressure: BackpressureConfiguration = BackpressureConfiguration(),
        compression: CompressionConfiguration = CompressionConfiguration()
    ) {
        self.limits = limits
        self.backpressure = backpressure
        self.compression = compression
    }
}
