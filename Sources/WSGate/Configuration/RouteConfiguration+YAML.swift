extension RouteConfiguration {
    /// One entry of `routes`, already named, on top of `defaults`; `upstreams` are the declared names.
    static func read(
        _ mapping: ConfigurationMapping,
        name: String,
        defaults: DefaultsConfiguration,
        upstreams: [String]
    ) -> RouteConfiguration {
        let match = mapping.value("match").flatMap(RouteMatch.read) ?? RouteMatch()
        let upstream = mapping.required("upstream")?.string() ?? ""
        let rewritePrefix = mapping.read("rewrite_prefix", Self.parseRewritePrefix)
        let origins = mapping.value("origins").map(Self.readOrigins)
        let settings = DefaultsConfiguration.read(in: mapping, base: defaults)
        var serves = RouteKinds.both
        mapping.read("serves", Scalar.choice(RouteKinds.self), into: &serves)
        let route = RouteConfiguration(
            name: name,
            match: match,
            upstream: upstream,
            rewritePrefix: rewritePrefix,
            origins: origins,
            limits: settings.limits,
            backpressure: settings.backpressure,
            compression: settings.compression,
            serves: serves,
            auth: mapping.value("auth").flatMap(AuthConfiguration.read)
        )
        route.validate(in: mapping, upstreams: upstreams)
        return route
    }

    /// The upstream is declared, and a rewrite has a matched prefix to replace.
    func validate(in mapping: ConfigurationMapping, upstreams: [String]) {
        if !upstreams.contains(self.upstream) {
            let hint =
                self.upstream.closestMatch(among: upstreams).map { "did you mean '\($0)'?" }
                ?? (upstreams.isEmpty ? "no upstreams are defined" : "defined: \(upstreams.joined(separator: ", "))")
            mapping.reject("unknown upstream '\(self.upstream)' (\(hint))", at: .value("upstream"), about: ["upstream"])
        }
        let replacesAPrefix = if case .prefix? = self.match.path { true } else { false }
        if self.rewritePrefix != nil, !replacesAPrefix {
            mapping.reject(
                "rewrite_prefix needs match.path_prefix (it replaces the matched prefix)",
                at: .key("rewrite_prefix"),
                about: ["rewrite_prefix", "match.path_prefix"]
            )
        }
    }

    /// A route that serves one kind only needs an upstream that carries it (`serves: http` on an
    /// echo or `websocket-h2` upstream would never be matched).
    func validateKinds(in mapping: ConfigurationMapping, carried protocol: UpstreamProtocol) {
        let kind: RequestKind
        switch self.serves {
        case .both: return
        case .websocket: kind = .webSocket
        case .http: kind = .http
        }
        guard !`protocol`.serves.includes(kind) else { return }
        mapping.reject(
            "serves \(self.serves.rawValue), but upstream '\(self.upstream)' (\(`protocol`.rawValue)) carries \(`protocol`.serves.rawValue) only",
            at: .value("serves"),
            about: ["serves", "upstream"]
        )
    }

    private static func readOrigins(_ node: ConfigurationNode) -> [String] {
        node.sequence()?.compactMap { $0.value(Self.parseOrigin) } ?? []
    }

    /// An origin as browsers serialise it, `scheme://host[:port]`, lowercased: the handshake compares
    /// the `Origin` header exactly, so `https://chat.example.com/` (with a path) would never match.
    private static func parseOrigin(_ text: String) throws(ValueSyntaxError) -> String {
        let example = "must be scheme://host[:port], e.g. 'https://chat.example.com'"
        guard let separator = text.firstRange(of: "://") else {
            throw ValueSyntaxError("origin '\(text)' \(example)")
        }
        let scheme = text[..<separator.lowerBound]
        let authority = text[separator.upperBound...]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || "+-.".contains($0) }),
            !authority.isEmpty, !authority.contains(where: { "/?#".contains($0) })
        else {
            throw ValueSyntaxError("origin '\(text)' \(example)")
        }
        return text.lowercased()
    }

    private static func parseRewritePrefix(_ text: String) throws(ValueSyntaxError) -> String {
        guard text.hasPrefix("/") else {
            throw ValueSyntaxError("rewrite_prefix '\(text)' must start with '/'")
        }
        return text
    }
}

extension RouteMatch {
    /// A route's `match`, or `nil` when it is not a mapping (after reporting why).
    static func read(_ node: ConfigurationNode) -> RouteMatch? {
        node.mapping { mapping in
            var match = RouteMatch()
            match.host = mapping.read("host", HostPattern.parse)
            let exact = mapping.read("path", Self.parsePath).map(PathPattern.exact)
            let prefix = mapping.read("path_prefix", Self.parsePath).map(PathPattern.prefix)
            match.path = prefix ?? exact
            match.headers = mapping.value("headers").map(Self.readHeaders) ?? []
            Self.validate(in: mapping)
            return match
        }
    }

    /// A path is matched one way: exactly or by prefix.
    static func validate(in mapping: ConfigurationMapping) {
        if mapping.contains("path"), mapping.contains("path_prefix") {
            mapping.reject("'path' and 'path_prefix' cannot both be set; use one", at: .key("path_prefix"), about: [])
        }
    }

    private static func readHeaders(_ node: ConfigurationNode) -> [HeaderMatch] {
        node.entries()?.compactMap { entry in
            guard entry.key.isHTTPToken else {
                node.reader.report("'\(entry.key)' is not a valid header name", at: entry.keyNode, path: entry.value.path)
                return nil
            }
            return entry.value.string().map { HeaderMatch(name: entry.key, value: $0) }
        } ?? []
    }

    /// `path` and `path_prefix`: an absolute path without a query.
    private static func parsePath(_ text: String) throws(ValueSyntaxError) -> String {
        guard text.hasPrefix("/") else {
            throw ValueSyntaxError("path '\(text)' must start with '/'")
        }
        guard !text.contains("?") else {
            throw ValueSyntaxError("path '\(text)' must not contain a query; paths are matched without it")
        }
        return text
    }
}
