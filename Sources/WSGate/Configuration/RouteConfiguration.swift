/// One routing rule: which requests it takes, and where and how they are forwarded.
struct RouteConfiguration: Sendable, Equatable {
    /// A unique name for logs and metrics. Default in YAML: `route_<n>`, `n` counting from 1 in file order.
    var name: String
    /// The conditions a request must meet. Default: none, which matches every request.
    var match: RouteMatch
    /// The name of the upstream to forward to; a loaded configuration guarantees it exists.
    var upstream: String
    /// Replaces the matched `path_prefix` in the upstream request target. Default: `nil`, the target
    /// is forwarded unchanged. Only valid with a ``PathPattern/prefix(_:)`` match.
    var rewritePrefix: String?
    /// The `Origin` header values accepted for this route, lowercased `scheme://host[:port]`.
    /// Default: `nil`, any origin (or none) is accepted; an empty list accepts none.
    var origins: [String]?
    /// The limits for connections on this route: `defaults.limits` with this route's overrides applied.
    var limits: Limits
    /// `defaults.backpressure` with this route's overrides applied.
    var backpressure: BackpressureConfiguration
    /// permessage-deflate for clients on this route: `defaults.compression` with this route's overrides applied.
    var compression: CompressionConfiguration
    /// Which requests the route takes: WebSocket upgrades, plain HTTP requests, or both (YAML
    /// `serves`). Default: both, so one route fronts a whole app.
    var serves: RouteKinds
    /// Authentication at the edge. Default: `nil`, every client is let through.
    var auth: AuthConfiguration?

    /// Creates a route configuration, without validation.
    init(
        name: String,
        match: RouteMatch = RouteMatch(),
        upstream: String,
        rewritePrefix: String? = nil,
        origins: [String]? = nil,
        limits: Limits = Limits(),
        backpressure: BackpressureConfiguration = BackpressureConfiguration(),
        compression: CompressionConfiguration = CompressionConfiguration(),
        serves: RouteKinds = .both,
        auth: AuthConfiguration? = nil
    ) {
        self.name = name
        self.match = match
        self.upstream = upstream
        self.rewritePrefix = rewritePrefix
        self.origins = origins
        self.limits = limits
        self.backpressure = backpressure
        self.compression = compression
        self.serves = serves
        self.auth = auth
    }
}

/// The kinds of request a route serves or an upstream carries (YAML `websocket`, `http`, `both`).
enum RouteKinds: String, Sendable, Equatable, CaseIterable {
    case websocket
    case http
    case both

    /// Whether a request of `kind` is among these.
    func includes(_ kind: RequestKind) -> Bool {
        switch (self, kind) {
        case (.both, _), (.websocket, .webSocket), (.http, .http): return true
        case (.websocket, .http), (.http, .webSocket): return false
        }
    }
}

/// What a client's request asks for: a WebSocket upgrade, or a plain HTTP exchange to proxy.
enum RequestKind: Sendable, Equatable {
    case webSocket
    case http
}

/// The conditions of a route; all that are set must hold. Default: none set, which matches everything.
struct RouteMatch: Sendable, Equatable {
    /// The `Host` header pattern. Default: `nil`, any host (or none).
    var host: HostPattern?
    /// The path pattern, tested against the request target without its query. Default: `nil`, any path.
    var path: PathPattern?
    /// Headers that must be present with an exact value, in file order. Default: none.
    var headers: [HeaderMatch]

    /// Creates a match; with no arguments it matches every request.
    init(host: HostPattern? = nil, path: PathPattern? = nil, headers: [HeaderMatch] = []) {
        self.host = host
        self.path = path
        self.headers = headers
    }
}

/// A request header that must be present with exactly this value.
struct HeaderMatch: Sendable, Hashable {
    /// The header name, lowercased (header names are case-insensitive); set through the initializer
    /// so it cannot lose its lowercasing.
    private(set) var name: String
    /// The value one of the request's headers with this name must equal, byte for byte.
    var value: String

    /// Creates a header match; the name is lowercased.
    init(name: String, value: String) {
        self.name = name.lowercased()
        self.value = value
    }
}

/// A pattern for the request's host (the `Host` header without its port). Stored lowercased.
enum HostPattern: Sendable, Hashable, CustomStringConvertible {
    /// The host must equal this name, ignoring case.
    case exact(String)
    /// Written `*.example.com` and stored as `example.com`: matches any host that ends in
    /// `.example.com` (`a.example.com`, `a.b.example.com`) but not `example.com` itself.
    case wildcardSuffix(String)

    /// The pattern as written in YAML, e.g. `*.example.com`.
    var description: String {
        switch self {
        case .exact(let host): return host
        case .wildcardSuffix(let domain): return "*.\(domain)"
        }
    }

    /// Parses a YAML host pattern: a host name or IP address, optionally with a leading `*.`.
    static func parse(_ text: String) throws(ValueSyntaxError) -> HostPattern {
        var host = text.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.filter({ $0 == ":" }).count == 1 {
            throw ValueSyntaxError("host '\(text)' must not include a port; hosts are matched without it")
        }
        let isWildcard = host.hasPrefix("*.")
        let name = isWildcard ? String(host.dropFirst(2)) : host
        guard !name.isEmpty else {
            throw ValueSyntaxError("host pattern '\(text)' is empty; omit 'host' to match any host")
        }
        guard !name.contains("*") else {
            throw ValueSyntaxError("host pattern '\(text)' may only use '*' as a leading '*.' label")
        }
        return isWildcard ? .wildcardSuffix(name) : .exact(name)
    }
}

/// A pattern for the path part of the request target (before any `?`).
enum PathPattern: Sendable, Hashable {
    /// The path must equal this string exactly (YAML key `path`).
    case exact(String)
    /// The path must start with this string; a plain string prefix, so `/ws` also matches `/wsx`
    /// (YAML key `path_prefix`, same semantics as nginx and Envoy prefixes).
    case prefix(String)
}
