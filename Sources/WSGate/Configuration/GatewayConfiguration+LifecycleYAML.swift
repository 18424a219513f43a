import Yams

/// Decoding of the top-level `shutdown` and `reload` sections.
extension YAMLDecodingContext {
    static let shutdownKeys = ["grace", "timeout"]
    static let reloadKeys = ["watch_interval"]

    /// The `shutdown` section on top of the defaults; every bad value is reported and skipped.
    mutating func decodeShutdown(_ node: Node, at path: ConfigurationKeyPath) -> ShutdownConfiguration {
        var shutdown = ShutdownConfiguration()
        guard let mapping = self.mapping(node, at: path, knownKeys: Self.shutdownKeys) else { return shutdown }
        let durations: [(key: String, field: WritableKeyPath<ShutdownConfiguration, Duration>)] = [
            ("grace", \.grace),
            ("timeout", \.timeout),
        ]
        for (key, field) in durations {
            if let node = mapping[key], let duration = self.value(node, at: path.appending(key), DurationParsing.parse) {
                shutdown[keyPath: field] = duration
            }
        }
        return shutdown
    }

    /// The `reload` section on top of the defaults; a bad value is reported and skipped.
    mutating func decodeReload(_ node: Node, at path: ConfigurationKeyPath) -> ReloadConfiguration {
        var reload = ReloadConfiguration()
        guard let mapping = self.mapping(node, at: path, knownKeys: Self.reloadKeys) else { return reload }
        if let node = mapping["watch_interval"],
            let interval = self.value(node, at: path.appending("watch_interval"), DurationParsing.parse)
        {
            reload.watchInterval = interval
        }
        return reload
    }
}
