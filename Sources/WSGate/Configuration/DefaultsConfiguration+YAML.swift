extension DefaultsConfiguration {
    /// The `defaults` section on top of the built-in values.
    static func read(_ node: ConfigurationNode) -> DefaultsConfiguration {
        var defaults = DefaultsConfiguration()
        _ = node.mapping { mapping in
            defaults.limits = mapping.value("limits").map { Limits.read($0, base: defaults.limits) } ?? defaults.limits
            defaults.backpressure =
                mapping.value("backpressure").map { BackpressureConfiguration.read($0, base: defaults.backpressure) }
                ?? defaults.backpressure
            defaults.compression =
                mapping.value("compression").map { CompressionConfiguration.read($0, base: defaults.compression) }
                ?? defaults.compression
        }
        return defaults
    }
}
