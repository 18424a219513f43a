extension Limits {
    /// `defaults.limits` or a route's `limits`: the keys written, applied on top of `base`.
    static func read(_ node: ConfigurationNode, base: Limits) -> Limits {
        node.mapping(onto: base) { mapping, limits in
            mapping.read("max_frame", Scalar.positiveSize, into: &limits.maxFrame)
            mapping.read("max_message", Scalar.positiveSize, into: &limits.maxMessage)
            mapping.read("handshake_timeout", Scalar.positiveDuration, into: &limits.handshakeTimeout)
            mapping.read("idle_timeout", Scalar.duration, into: &limits.idleTimeout)
            mapping.read("ping_interval", Scalar.duration, into: &limits.pingInterval)
            mapping.read("close_timeout", Scalar.positiveDuration, into: &limits.closeTimeout)
            mapping.read("max_messages_per_second", Scalar.wholeNumber, into: &limits.maxMessagesPerSecond)
            mapping.read("max_header_bytes", Scalar.positiveSize, into: &limits.maxHeaderBytes)
            mapping.read("max_headers", Scalar.positiveWholeNumber, into: &limits.maxHeaders)
            mapping.read("max_connections", Scalar.wholeNumber, into: &limits.maxConnections)
            mapping.read("max_request_body", Scalar.size, into: &limits.maxRequestBody)
            mapping.read("response_timeout", Scalar.positiveDuration, into: &limits.responseTimeout)
        }
    }
}
