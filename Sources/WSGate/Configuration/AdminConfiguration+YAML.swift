extension AdminConfiguration {
    /// The `admin` section on top of the defaults, or `nil` when it is not a mapping (after reporting why).
    static func read(_ node: ConfigurationNode) -> AdminConfiguration? {
        node.mapping { mapping in
            var admin = AdminConfiguration()
            mapping.read("address", SocketAddressSpec.parse, into: &admin.address)
            mapping.read("token", Self.parseToken, into: &admin.token)
            mapping.read("allow_remote", Scalar.bool, into: &admin.allowRemote)
            mapping.read("stats", Scalar.bool, into: &admin.stats)
            mapping.read("max_connections", Scalar.positiveWholeNumber, into: &admin.maxConnections)
            mapping.read("idle_timeout", Scalar.positiveDuration, into: &admin.idleTimeout)
            admin.tls = mapping.value("tls").flatMap(ListenerTLSConfiguration.read)
            admin.validate(in: mapping)
            return admin
        }
    }

    /// A non-loopback address needs a `token` or `allow_remote: true`.
    func validate(in mapping: ConfigurationMapping) {
        if !self.address.isLoopback, self.token == nil, !self.allowRemote {
            mapping.reject(
                "admin address \(self.address) is not a loopback address: set admin.token (requests then need "
                    + "'Authorization: Bearer <token>') or admin.allow_remote: true",
                at: .value("address"),
                about: ["address", "token", "allow_remote"]
            )
        }
    }

    private static func parseToken(_ text: String) throws(ValueSyntaxError) -> String {
        guard !text.isEmpty, !text.contains(where: \.isWhitespace) else {
            throw ValueSyntaxError("a token must not be empty or contain whitespace")
        }
        return text
    }
}
