/// The whole gateway configuration, as loaded from a YAML file and validated once, up front.
///
/// Build one with ``GatewayConfiguration/load(contentsOf:)`` or ``GatewayConfiguration/parse(yaml:file:)``;
/// both resolve every default, so a loaded value needs no further checks. The memberwise initializer is
/// for tests and embedding and does not validate.
public struct GatewayConfiguration: Sendable, Equatable {
    /// The sockets that accept client WebSocket connections. A loaded configuration has at least one.
    var listeners: [ListenerConfiguration]
    /// The admin endpoint. Default: listening on `127.0.0.1:9901`.
    var admin: AdminConfiguration
    /// The upstreams routes can forward to, by name. Default: none.
    var upstreams: [String: UpstreamConfiguration]
    /// The routes in file order; the first matching route wins. Default: none (every request is refused).
    var routes: [RouteConfiguration]
    /// Values that apply where a route does not override them. Default: the built-in ``Limits``.
    var defaults: DefaultsConfiguration
    /// Gateway-wide connection limits (YAML `limits`). Default: none.
    var limits: GatewayLimits
    /// Logging outputs (YAML `log`). Default: no access log.
    var log: LogConfiguration
    /// How a graceful shutdown drains sessions. Default: grace 2 s, timeout 10 s.
    var shutdown: ShutdownConfiguration
    /// How the file is watched for reloads. Default: not watched (SIGHUP and `POST /reload` only).
    var reload: ReloadConfiguration

    /// Creates a configuration from already-resolved values, without validation.
    init(
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
