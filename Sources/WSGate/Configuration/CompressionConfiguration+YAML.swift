extension CompressionConfiguration {
    /// `defaults.compression` or a route's `compression`: the keys written, applied on top of `base`.
    static func read(_ node: ConfigurationNode, base: CompressionConfiguration) -> CompressionConfiguration {
        node.mapping(onto: base) { mapping, compression in
            mapping.read("enabled", Scalar.bool, into: &compression.enabled)
            mapping.read("level", Scalar.integer(in: 1...9), into: &compression.level)
            mapping.read("server_max_window_bits", Scalar.integer(in: 9...15), into: &compression.serverMaxWindowBits)
            mapping.read("client_max_window_bits", Scalar.integer(in: 9...15), into: &compression.clientMaxWindowBits)
            mapping.read("mem_level", Scalar.integer(in: 1...9), into: &compression.memoryLevel)
            mapping.read("min_size", Scalar.size, into: &compression.minSize)
            mapping.read("context_takeover", Scalar.bool, into: &compression.contextTakeover)
        }
    }
}
