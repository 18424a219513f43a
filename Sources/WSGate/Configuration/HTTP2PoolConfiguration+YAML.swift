extension HTTP2PoolConfiguration {
    /// `upstreams.<name>.pool` on top of the defaults.
    static func read(_ node: ConfigurationNode) -> HTTP2PoolConfiguration {
        node.mapping(onto: HTTP2PoolConfiguration()) { mapping, pool in
            mapping.read("connections_per_loop", Scalar.wholeNumber(in: 0...1024), into: &pool.connectionsPerLoop)
            mapping.read("max_connections_per_loop", Scalar.wholeNumber(in: 1...1024), into: &pool.maxConnectionsPerLoop)
            // RFC 9113 caps stream identifiers, not concurrency; 2^31-1 is the setting's own ceiling.
            mapping.read(
                "max_streams_per_connection",
                Scalar.wholeNumber(in: 1...Self.maxWindow),
                into: &pool.maxStreamsPerConnection
            )
            mapping.read("idle_timeout", Scalar.positiveDuration, into: &pool.idleTimeout)
            mapping.read("initial_stream_window", Self.parseStreamWindow, into: &pool.initialStreamWindow)
            pool.validate(in: mapping)
        }
    }

    /// The pool may not keep more connections open than it may have.
    func validate(in mapping: ConfigurationMapping) {
        if self.connectionsPerLoop > self.maxConnectionsPerLoop {
            mapping.reject(
                "connections_per_loop (\(self.connectionsPerLoop)) must not exceed max_connections_per_loop (\(self.maxConnectionsPerLoop))",
                at: .value("connections_per_loop"),
                about: ["connections_per_loop", "max_connections_per_loop"]
            )
        }
    }

    /// A size from 16 KiB to 2^31-1: below the 16 KiB frame size a stream could not receive one full
    /// DATA frame per round trip.
    private static func parseStreamWindow(_ text: String) throws(ValueSyntaxError) -> Int {
        let window = try Scalar.size(text)
        guard (16 * 1024...Self.maxWindow).contains(window) else {
            throw ValueSyntaxError("expected a size from 16KiB to \(Self.maxWindow) bytes (2^31-1)")
        }
        return window
    }
}
