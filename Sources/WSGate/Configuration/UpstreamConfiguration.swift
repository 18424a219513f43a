/// A named group of backend endpoints that routes forward WebSocket connections to.
public struct UpstreamConfiguration: Sendable, Equatable {
    /// The upstream's name, the key it has under `upstreams` in YAML.
    public var name: String
    /// How the gateway talks to this upstream. Default: ``UpstreamProtocol/websocket``.
    public var `protocol`: UpstreamProtocol
    /// The backend addresses, picked round-robin. Non-empty for `websocket`, empty for `echo`.
    public var endpoints: [SocketAddressSpec]
    /// How long dialing one endpoint may take before it counts as failed. Default: 5 s.
    public var connectTimeout: Duration
    /// TLS to the endpoints. Default: none (plain TCP).
    public var tls: UpstreamTLSConfiguration?

    /// The connect timeout used when the configuration does not set one: 5 seconds.
    public static let defaultConnectTimeout = Duration.seconds(5)

    /// Creates an upstream configuration, without validation.
    public init(
        name: String,
        protocol: UpstreamProtocol = .websocket,
        endpoints: [SocketAddressSpec] = [],
        connectTimeout: Duration = UpstreamConfiguration.defaultConnectTimeout,
        tls: UpstreamTLSConfiguration? = nil
    ) {
        self.name = name
        self.protocol = `protocol`
        self.endpoints = endpoints
        self.connectTimeout = connectTimeout
        self.tls = tls
    }
}

/// The protocol spoken to an upstream. Default: `websocket`.
///
/// WebSocket over HTTP/2 (`websocket-h2`, RFC 8441) is planned; the loader rejects it with
/// "not supported yet" rather than "unknown" so the message stays honest.
public enum UpstreamProtocol: String, Sendable, Equatable, CaseIterable {
    /// One upstream WebSocket over HTTP/1.1 per client connection.
    case websocket
    /// A built-in, in-process echo service; takes no endpoints. Useful for smoke tests and demos.
    case echo
}
