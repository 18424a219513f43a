extension GatewayLimits {
    /// The top-level `limits` section on top of the defaults.
    static func read(_ node: ConfigurationNode) -> GatewayLimits {
        node.mapping(onto: GatewayLimits()) { mapping, limits in
            mapping.read("max_connections", Scalar.wholeNumber, into: &limits.maxConnections)
            mapping.read("max_connections_per_ip", Scalar.wholeNumber, into: &limits.maxConnectionsPerIP)
            mapping.read("max_pending_handshakes", Scalar.wholeNumber, into: &limits.maxPendingHandshakes)
            mapping.read("max_memory", Scalar.size, into: &limits.maxMemory)
            mapping.read("retry_after", Scalar.positiveDuration, into: &limits.retryAfter)
        }
    }
}
