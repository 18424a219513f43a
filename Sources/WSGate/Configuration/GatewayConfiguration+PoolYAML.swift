import Yams

/// Decoding of `upstreams.<name>.pool` and `upstreams.<name>.balance`.
extension YAMLDecodingContext {
    static let poolKeys = [
        "connections_per_loop", "max_connections_per_loop", "max_streams_per_connection", "idle_timeout",
        "initial_stream_window",
    ]

    /// Applies the keys present in `node` on top of the defaults; every bad value is reported and skipped.
    mutating func decodePool(_ node: Node, at path: ConfigurationKeyPath) -> HTTP2PoolConfiguration {
        var pool = HTTP2PoolConfiguration()
        guard let mapping = self.mapping(node, at: path, knownKeys: Self.poolKeys) else { return pool }
        let counts: [(key: String, field: WritableKeyPath<HTTP2PoolConfiguration, Int>, range: ClosedRange<Int>)] = [
            ("connections_per_loop", \.connectionsPerLoop, 0...1024),
            ("max_connections_per_loop", \.maxConnectionsPerLoop, 1...1024),
            // RFC 9113 caps stream identifiers, not concurrency; 2^31-1 is the setting's own ceiling.
            ("max_streams_per_connection", \.maxStreamsPerConnection, 1...HTTP2PoolConfiguration.maxWindow),
        ]
        for (key, field, range) in counts {
            if let node = mapping[key],
                let value = self.value(node, at: path.appending(key), { text throws(ValueSyntaxError) in
                    guard let value = Int(text), range.contains(value) else {
                        throw ValueSyntaxError("expected a whole number from \(range.lowerBound) to \(range.upperBound), found '\(text)'")
                    }
                    return value
                })
            {
                pool[keyPath: field] = value
            }
        }
        if let node = mapping["idle_timeout"], let timeout = self.value(node, at: path.appending("idle_timeout"), DurationParsing.parse) {
            if timeout > .zero {
                pool.idleTimeout = timeout
            } else {
                self.report("duration must be greater than 0", at: node, path: path.appending("idle_timeout"))
            }
        }
        if let node = mapping["initial_stream_window"],
            let window = self.value(node, at: path.appending("initial_stream_window"), ByteSize.parse)
        {
            // Below the 16 KiB frame size a stream could not receive one full DATA frame per round trip.
            if (16 * 1024...HTTP2PoolConfiguration.maxWindow).contains(window) {
                pool.initialStreamWindow = window
            } else {
                self.report(
                    "expected a size from 16KiB to \(HTTP2PoolConfiguration.maxWindow) bytes (2^31-1)",
                    at: node,
                    path: path.appending("initial_stream_window")
                )
            }
        }
        if pool.connectionsPerLoop > pool.maxConnectionsPerLoop {
            self.report(
                "connections_per_loop (\(pool.connectionsPerLoop)) must not exceed max_connections_per_loop (\(pool.maxConnectionsPerLoop))",
                at: mapping["connections_per_loop"] ?? mapping.node,
                path: path.appending("connections_per_loop")
            )
        }
        return pool
    }

    static func parseBalance(_ text: String) throws(ValueSyntaxError) -> UpstreamBalance {
        if let balance = UpstreamBalance(rawValue: text) { return balance }
        let names = UpstreamBalance.allCases.map(\.rawValue)
        throw ValueSyntaxError("unknown balance '\(text)' (expected one of: \(names.joined(separator: ", ")))")
    }
}
