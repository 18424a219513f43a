/// Picks the route for a client's request: a WebSocket upgrade or a plain HTTP request.
///
/// Built once from a loaded configuration, off the event loop, and shared read-only by every
/// connection. Matching is a linear scan in file order: route lists are short, and "first match wins"
/// is the rule users can predict from reading the file (nginx `location` and Envoy route order alike).
public struct RouteTable: Sendable, CustomStringConvertible {
    /// The routes in file order.
    let routes: [RouteConfiguration]
    /// What each route's upstream carries, in route order (an echo upstream serves no HTTP; an
    /// upstream the configuration does not declare, none but WebSocket).
    private let upstreamKinds: [RouteKinds]

    /// Creates the table for `configuration`'s routes.
    public init(configuration: GatewayConfiguration) {
        self.routes = configuration.routes
        self.upstreamKinds = configuration.routes.map { configuration.upstreams[$0.upstream]?.protocol.serves ?? .websocket }
    }

    /// Returns the first route, in file order, whose conditions the request meets.
    ///
    /// - Parameters:
    ///   - host: The `Host` header value as received (port and case are ignored); `nil` when the request
    ///     had none, which no route with a host condition matches.
    ///   - path: The request target, optionally with a query string; only the part before `?` is matched.
    ///   - headers: The request headers; names compare case-insensitively, values exactly, and any one of
    ///     several headers with the same name may satisfy a condition.
    ///   - kind: Only routes that serve this kind of request (their `serves` and their upstream's
    ///     protocol both include it); `nil`: any route.
    func match(
        host: String?,
        path: String,
        headers: some Sequence<(name: String, value: String)>,
        kind: RequestKind? = nil
    ) -> RouteSelection? {
        let hostname = host.flatMap(HostHeader.init)?.hostname
        let queryStart = path.firstIndex(of: "?") ?? path.endIndex
        let requestPath = path[..<queryStart]
        let query = path[queryStart...]
        var lowercasedHeaders: [(name: String, value: String)]?

        for (route, upstreamKinds) in zip(self.routes, self.upstreamKinds) {
            if let kind {
                guard route.serves.includes(kind), upstreamKinds.includes(kind) else { continue }
            }
            if let pattern = route.match.host {
                guard let hostname, pattern.matches(hostname) else { continue }
            }
            if let pattern = route.match.path {
                guard pattern.matches(requestPath) else { continue }
            }
            if !route.match.headers.isEmpty {
                let requestHeaders = lowercasedHeaders ?? headers.map { (name: $0.name.lowercased(), value: $0.value) }
                lowercasedHeaders = requestHeaders
                guard route.match.matchesHeaders(requestHeaders) else { continue }
            }
            return RouteSelection(route: route, upstreamPath: route.upstreamTarget(path: requestPath, query: query))
        }
        return nil
    }

    /// One line per route in file order, names aligned, for `wsgate validate`:
    /// `chat  host=*.example.com path_prefix=/ws headers=x-a:1 -> upstream chat (rewrite /)`.
    public var description: String {
        guard !self.routes.isEmpty else { return "(no routes)" }
        let width = self.routes.map(\.name.count).max() ?? 0
        return self.routes.map { route in
            let padding = String(repeating: " ", count: width - route.name.count)
            let rewrite = route.rewritePrefix.map { " (rewrite \($0))" } ?? ""
            let serves = route.serves == .both ? "" : " serves=\(route.serves.rawValue)"
            return "\(route.name)\(padding)  \(Self.describe(route.match))\(serves) -> upstream \(route.upstream)\(rewrite)"
        }.joined(separator: "\n")
    }

    /// The conditions as `key=value` words, or `any` for a catch-all route.
    private static func describe(_ match: RouteMatch) -> String {
        var conditions: [String] = []
        if let host = match.host {
            conditions.append("host=\(host)")
        }
        switch match.path {
        case .exact(let path)?: conditions.append("path=\(path)")
        case .prefix(let prefix)?: conditions.append("path_prefix=\(prefix)")
        case nil: break
        }
        if !match.headers.isEmpty {
            conditions.append("headers=" + match.headers.map { "\($0.name):\($0.value)" }.joined(separator: ","))
        }
        return conditions.isEmpty ? "any" : conditions.joined(separator: " ")
    }
}
