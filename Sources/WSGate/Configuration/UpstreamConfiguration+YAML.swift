extension UpstreamConfiguration {
    /// `upstreams.<name>` on top of the defaults.
    static func read(_ node: ConfigurationNode, name: String) -> UpstreamConfiguration {
        node.mapping(onto: UpstreamConfiguration(name: name)) { mapping, upstream in
            mapping.read("protocol", Scalar.named(UpstreamProtocol.self, "protocol"), into: &upstream.protocol)
            upstream.endpoints = mapping.value("endpoints").map(Self.readEndpoints) ?? []
            mapping.read("connect_timeout", Scalar.positiveDuration, into: &upstream.connectTimeout)
            upstream.tls = mapping.value("tls").flatMap(UpstreamTLSConfiguration.read)
            mapping.read("balance", Scalar.named(UpstreamBalance.self, "balance"), into: &upstream.balance)
            upstream.pool = mapping.value("pool").map(HTTP2PoolConfiguration.read) ?? upstream.pool
            upstream.httpPool = mapping.value("http_pool").map(HTTPPoolConfiguration.read) ?? upstream.httpPool
            mapping.read("drop_underscore_headers", Scalar.bool, into: &upstream.dropUnderscoreHeaders)
            upstream.validate(in: mapping)
        }
    }

    /// What the protocol needs and refuses. Not checked when `protocol` itself is wrong, so a typo
    /// there is reported once.
    func validate(in mapping: ConfigurationMapping) {
        switch self.protocol {
        case .websocket, .websocketH2, .http:
            if self.endpoints.isEmpty {
                let need = "a \(self.protocol.rawValue) upstream needs at least one endpoint"
                mapping.reject(
                    mapping.contains("endpoints") ? need : "missing required key 'endpoints' (\(need))",
                    at: .value("endpoints"),
                    about: ["protocol", "endpoints"]
                )
            }
            if self.protocol != .websocketH2, mapping.contains("pool") {
                mapping.reject("pool applies to websocket-h2 upstreams only", at: .key("pool"), about: ["protocol"])
            }
            if self.protocol == .websocketH2, mapping.contains("http_pool") {
                mapping.reject(
                    "http_pool applies to websocket and http upstreams only",
                    at: .key("http_pool"),
                    about: ["protocol"]
                )
            }
        case .echo:
            if !self.endpoints.isEmpty {
                mapping.reject("an echo upstream takes no endpoints", at: .value("endpoints"), about: ["protocol", "endpoints"])
            }
            if mapping.contains("tls") {
                mapping.reject("an echo upstream takes no tls", at: .key("tls"), about: ["protocol"])
            }
            if mapping.contains("pool") {
                mapping.reject("pool applies to websocket-h2 upstreams only", at: .key("pool"), about: ["protocol"])
            }
            if mapping.contains("http_pool") {
                mapping.reject(
                    "http_pool applies to websocket and http upstreams only",
                    at: .key("http_pool"),
                    about: ["protocol"]
                )
            }
        }
    }

    private static func readEndpoints(_ node: ConfigurationNode) -> [SocketAddressSpec] {
        node.sequence()?.compactMap { $0.value(Self.parseEndpoint) } ?? []
    }

    /// An endpoint is dialed, so it needs a real port.
    private static func parseEndpoint(_ text: String) throws(ValueSyntaxError) -> SocketAddressSpec {
        let address = try SocketAddressSpec.parse(text)
        guard address.port != 0 else { throw ValueSyntaxError("an endpoint needs a port other than 0") }
        return address
    }
}
