extension ShutdownConfiguration {
    /// The `shutdown` section on top of the defaults.
    static func read(_ node: ConfigurationNode) -> ShutdownConfiguration {
        var shutdown = ShutdownConfiguration()
        _ = node.mapping { mapping in
            mapping.read("grace", Scalar.duration, into: &shutdown.grace)
            mapping.read("timeout", Scalar.duration, into: &shutdown.timeout)
        }
        return shutdown
    }
}

extension ReloadConfiguration {
    /// The `reload` section on top of the defaults.
    static func read(_ node: ConfigurationNode) -> ReloadConfiguration {
        var reload = ReloadConfiguration()
        _ = node.mapping { mapping in
            mapping.read("watch_interval", Scalar.duration, into: &reload.watchInterval)
        }
        return reload
    }
}
