extension HostPattern {
    /// Whether `host` (already lowercased and without a port, see ``HostHeader``) fits this pattern.
    func matches(_ host: String) -> Bool {
        switch self {
        case .exact(let name):
            return host == name
        case .wildcardSuffix(let domain):
            // At least one non-empty label in front of the dot: `*.example.com` never matches `example.com`.
            return host.utf8.count > domain.utf8.count + 1 && host.hasSuffix(".\(domain)")
        }
    }
}

extension PathPattern {
    /// Whether the path part of a request target fits this pattern, comparing bytes: no decoding or
    /// normalisation, so `/ws` does not match `/%77s`.
    func matches(_ path: Substring) -> Bool {
        switch self {
        case .exact(let exact): return path.utf8.elementsEqual(exact.utf8)
        case .prefix(let prefix): return path.utf8.starts(with: prefix.utf8)
        }
    }
}

extension RouteMatch {
    /// Whether every header condition is met by some request header; `headers` must have lowercased names.
    func matchesHeaders(_ headers: [(name: String, value: String)]) -> Bool {
        self.headers.allSatisfy { condition in
            headers.contains { $0.name == condition.name && $0.value == condition.value }
        }
    }
}

extension RouteConfiguration {
    /// The upstream request target for a client target split into `path` and `query` (with its `?`).
    ///
    /// With `rewrite_prefix`, the matched `path_prefix` is replaced; when the replacement ends in `/`
    /// and the rest starts with one, a single slash is kept (`/ws` → `/api/`: `/ws/chat` → `/api/chat`).
    func upstreamTarget(path: Substring, query: Substring) -> String {
        guard let rewritePrefix = self.rewritePrefix, case .prefix(let prefix)? = self.match.path else {
            return String(path) + query
        }
        var rest = path.utf8.dropFirst(prefix.utf8.count)
        if rewritePrefix.utf8.last == UInt8(ascii: "/"), rest.first == UInt8(ascii: "/") {
            rest = rest.dropFirst()
        }
        return rewritePrefix + Substring(rest) + query
    }
}
