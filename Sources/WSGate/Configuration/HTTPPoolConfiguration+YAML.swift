extension HTTPPoolConfiguration {
    /// `upstreams.<name>.http_pool` on top of the defaults.
    static func read(_ node: ConfigurationNode) -> HTTPPoolConfiguration {
        node.mapping(onto: HTTPPoolConfiguration()) { mapping, pool in
            mapping.read("max_idle_per_loop", Scalar.wholeNumber(in: 0...65_536), into: &pool.maxIdlePerLoop)
            mapping.read("idle_timeout", Scalar.positiveDuration, into: &pool.idleTimeout)
            mapping.read("max_requests", Scalar.wholeNumber, into: &pool.maxRequests)
        }
    }
}
