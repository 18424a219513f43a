extension DefaultsConfiguration {
    /// The `defaults` section on top of the built-in values.
    static func read(_ node: ConfigurationNode) -> DefaultsConfiguration {
        node.mapping(onto: DefaultsConfiguration()) { mapping, defaults in
            defaults = Self.read(in: mapping, base: defaults)
        }
    }

    /// `limits`, `backpressure` and `compression` in `mapping` (the `defaults` section or a route),
    /// each applied on top of its value in `base`.
    static func read(in mapping: ConfigurationMapping, base: DefaultsConfiguration) -> DefaultsConfiguration {
        DefaultsConfiguration(
            limits: mapping.value("limits").map { Limits.read($0, base: base.limits) } ?? base.limits,
            backpressure: mapping.value("backpressure").map { BackpressureConfiguration.read($0, base: base.backpressure) }
                ?? base.backpressure,
            compression: mapping.value("compression").map { CompressionConfiguration.read($0, base: base.compression) }
                ?? base.compression
        )
    }
}
