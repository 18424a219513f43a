extension ShutdownConfiguration {
    /// The `shutdown` section on top of the defaults.
    static func read(_ node: ConfigurationNode) -> ShutdownConfiguration {
        node.mapping(onto: ShutdownConfiguration()) { mapping, shutdown in
            mapping.read("grace", Scalar.duration, into: &shutdown.grace)
            mapping.read("timeout", Scalar.duration, into: &shutdown.timeout)
        }
    }
}

extension ReloadConfiguration {
    /// The `reload` section on top of the defaults.
    static func read(_ node: ConfigurationNode) -> ReloadConfiguration {
        node.mapping(onto: ReloadConfiguration()) { mapping, reload in
            mapping.read("watch_interval", Scalar.duration, into: &reload.watchInterval)
        }
    }
}
