/// Reading of `listeners[].http2`.
extension ListenerHTTP2Configuration {
    /// The section on top of the defaults.
    static func read(_ node: ConfigurationNode) -> ListenerHTTP2Configuration {
        let http2 = node.mapping(onto: ListenerHTTP2Configuration()) { mapping, http2 in
            mapping.read("enabled", Scalar.bool, into: &http2.enabled)
            mapping.read("max_concurrent_streams", Scalar.wholeNumber(in: 1...100_000), into: &http2.maxConcurrentStreams)
            mapping.read("max_header_list_size", Self.parseHeaderListSize, into: &http2.maxHeaderListSize)
            mapping.read("initial_window_size", Self.parseWindow, into: &http2.initialWindowSize)
        }
        if http2.maxUnreadBytes > Self.maxUnreadBytes {
            node.report(
                "max_concurrent_streams × initial_window_size is \(http2.maxUnreadBytes) bytes: at most "
                    + "\(Self.maxUnreadBytes) (16MiB) may wait unread on one connection; lower one of them"
            )
        }
        return http2
    }

    /// The most DATA one connection's streams may hold unread (``ListenerHTTP2Configuration/maxUnreadBytes``).
    static let maxUnreadBytes = 16 * 1024 * 1024

    /// 1 KiB to 1 MiB: below, a browser's cookies do not fit; above, one header block is a memory attack.
    private static func parseHeaderListSize(_ text: String) throws(ValueSyntaxError) -> Int {
        let size = try Scalar.size(text)
        guard (1024...1024 * 1024).contains(size) else {
            throw ValueSyntaxError("expected a size from 1KiB to 1MiB")
        }
        return size
    }

    /// 16 KiB to 2^31-1 (RFC 9113 section 6.9.1), as `upstreams.<name>.pool.initial_stream_window`.
    private static func parseWindow(_ text: String) throws(ValueSyntaxError) -> Int {
        let window = try Scalar.size(text)
        guard (16 * 1024...HTTP2PoolConfiguration.maxWindow).contains(window) else {
            throw ValueSyntaxError("expected a size from 16KiB to \(HTTP2PoolConfiguration.maxWindow) bytes (2^31-1)")
        }
        return window
    }
}
