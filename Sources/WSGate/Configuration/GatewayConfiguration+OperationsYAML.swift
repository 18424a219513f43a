import Yams

/// Decoding of the operations sections: `admin`, the gateway-wide `limits` and `log`.
extension YAMLDecodingContext {
    static let adminKeys = ["address", "token", "allow_remote", "stats", "max_connections", "idle_timeout", "tls"]
    static let gatewayLimitsKeys = ["max_connections", "max_connections_per_ip", "max_pending_handshakes", "max_memory", "retry_after"]
    static let logKeys = ["access"]
    static let accessLogKeys = ["format", "destination"]

    /// The admin section with its defaults applied, or `nil` when it is not a mapping. A non-loopback
    /// address needs a `token` or `allow_remote: true`.
    mutating func decodeAdmin(_ node: Node?, at path: ConfigurationKeyPath) -> AdminConfiguration? {
        guard let node else { return AdminConfiguration() }
        guard let mapping = self.mapping(node, at: path, knownKeys: Self.adminKeys) else { return nil }
        var admin = AdminConfiguration()
        if let addressNode = mapping["address"],
            let address = self.value(addressNode, at: path.appending("address"), SocketAddressSpec.parse)
        {
            admin.address = address
        }
        if let tokenNode = mapping["token"], let token = self.string(tokenNode, at: path.appending("token")) {
            if token.isEmpty || token.contains(where: \.isWhitespace) {
                self.report("a token must not be empty or contain whitespace", at: tokenNode, path: path.appending("token"))
            } else {
                admin.token = token
            }
        }
        if let node = mapping["allow_remote"], let flag = self.value(node, at: path.appending("allow_remote"), Self.parseBool) {
            admin.allowRemote = flag
        }
        if let node = mapping["stats"], let flag = self.value(node, at: path.appending("stats"), Self.parseBool) {
            admin.stats = flag
        }
        if let node = mapping["max_connections"],
            let count = self.value(node, at: path.appending("max_connections"), Self.parseWholeNumber)
        {
            if count > 0 {
                admin.maxConnections = count
            } else {
                self.report("must be greater than 0", at: node, path: path.appending("max_connections"))
            }
        }
        if let node = mapping["idle_timeout"], let duration = self.value(node, at: path.appending("idle_timeout"), DurationParsing.parse) {
            if duration > .zero {
                admin.idleTimeout = duration
            } else {
                self.report("duration must be greater than 0", at: node, path: path.appending("idle_timeout"))
            }
        }
        if let node = mapping["tls"] {
            admin.tls = TLSYAMLDecoder.decodeListenerTLS(node, at: path.appending("tls"), context: &self)
        }
        if !admin.address.isLoopback, admin.token == nil, !admin.allowRemote, let addressNode = mapping["address"] {
            self.report(
                "admin address \(admin.address) is not a loopback address: set admin.token (requests then need "
                    + "'Authorization: Bearer <token>') or admin.allow_remote: true",
                at: addressNode,
                path: path.appending("address")
            )
        }
        return admin
    }

    /// The top-level `limits` section.
    mutating func decodeGatewayLimits(_ node: Node, at path: ConfigurationKeyPath) -> GatewayLimits {
        var limits = GatewayLimits()
        guard let mapping = self.mapping(node, at: path, knownKeys: Self.gatewayLimitsKeys) else { return limits }
        let counts: [(key: String, field: WritableKeyPath<GatewayLimits, Int>)] = [
            ("max_connections", \.maxConnections),
            ("max_connections_per_ip", \.maxConnectionsPerIP),
            ("max_pending_handshakes", \.maxPendingHandshakes),
        ]
        for (key, field) in counts {
            if let node = mapping[key], let count = self.value(node, at: path.appending(key), Self.parseWholeNumber) {
                limits[keyPath: field] = count
            }
        }
        if let node = mapping["max_memory"], let bytes = self.value(node, at: path.appending("max_memory"), ByteSize.parse) {
            limits.maxMemory = bytes
        }
        if let node = mapping["retry_after"], let duration = self.value(node, at: path.appending("retry_after"), DurationParsing.parse) {
            if duration > .zero {
                limits.retryAfter = duration
            } else {
                self.report("duration must be greater than 0", at: node, path: path.appending("retry_after"))
            }
        }
        return limits
    }

    /// The `log` section.
    mutating func decodeLog(_ node: Node, at path: ConfigurationKeyPath) -> LogConfiguration {
        var log = LogConfiguration()
        guard let mapping = self.mapping(node, at: path, knownKeys: Self.logKeys) else { return log }
        if let node = mapping["access"] {
            log.access = self.decodeAccessLog(node, at: path.appending("access"))
        }
        return log
    }

    private mutating func decodeAccessLog(_ node: Node, at path: ConfigurationKeyPath) -> AccessLogConfiguration? {
        guard let mapping = self.mapping(node, at: path, knownKeys: Self.accessLogKeys) else { return nil }
        var access = AccessLogConfiguration()
        if let node = mapping["format"] {
            access.format = self.value(node, at: path.appending("format")) { (text: String) throws(ValueSyntaxError) in
                guard let format = AccessLogConfiguration.Format(rawValue: text) else {
                    throw ValueSyntaxError("must be 'json' or 'text', not '\(text)'")
                }
                return format
            } ?? access.format
        }
        if let node = mapping["destination"], let text = self.string(node, at: path.appending("destination")) {
            if text.isEmpty {
                self.report("expected 'stderr' or a file path", at: node, path: path.appending("destination"))
            } else {
                access.destination = text == "stderr" ? .standardError : .file(text)
            }
        }
        return access
    }

    static func parseWholeNumber(_ text: String) throws(ValueSyntaxError) -> Int {
        guard let count = Int(text), count >= 0 else { throw ValueSyntaxError("'\(text)' is not a whole number") }
        return count
    }
}

extension SocketAddressSpec {
    /// Whether the host is a loopback address or `localhost` (names are not resolved).
    var isLoopback: Bool {
        let host = self.host.lowercased()
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
