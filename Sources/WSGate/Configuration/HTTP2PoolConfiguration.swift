/// The per-EventLoop HTTP/2 connection pools of a `websocket-h2` upstream (`upstreams.<name>.pool`).
///
/// Each EventLoop keeps its own pool per endpoint, so a client's stream always lives on the client's
/// loop; the counts below are per loop and per endpoint.
struct HTTP2PoolConfiguration: Sendable, Equatable {
    /// Connections kept open (connected at start-up and after a loss) per loop. Default: 1.
    var connectionsPerLoop: Int
    /// Most connections per loop; another one opens only when all are full. Default: 4.
    var maxConnectionsPerLoop: Int
    /// Most streams (client sessions) per connection; the server's `SETTINGS_MAX_CONCURRENT_STREAMS`
    /// lowers it, never raises it. Default: 100.
    var maxStreamsPerConnection: Int
    /// How long a connection beyond `connectionsPerLoop` may stay without streams before it is
    /// closed. Default: 60 s.
    var idleTimeout: Duration
    /// The HTTP/2 flow-control window of each stream, upstream to gateway (`SETTINGS_INITIAL_WINDOW_SIZE`).
    ///
    /// It is the most a stalled client can pin on the gateway for its stream: the gateway only sends
    /// WINDOW_UPDATE as the client drains, while the connection-level window is replenished as data
    /// arrives, so a stalled stream never stops its neighbours. 256 KiB keeps one stream at loopback
    /// and LAN speed (window / RTT: 256 MB/s at 1 ms) while 10,000 stalled streams pin at most 2.5 GiB;
    /// it matches `backpressure.low_water`, the same order as what a one-to-one TCP leg buffers.
    /// Default: 256 KiB.
    var initialStreamWindow: Int

    /// The default stream window: 256 KiB.
    static let defaultInitialStreamWindow = 256 * 1024
    /// The largest flow-control window HTTP/2 allows (RFC 9113 section 6.9.1).
    static let maxWindow = (1 << 31) - 1

    init(
        connectionsPerLoop: Int = 1,
        maxConnectionsPerLoop: Int = 4,
        maxStreamsPerConnection: Int = 100,
        idleTimeout: Duration = .seconds(60),
        initialStreamWindow: Int = HTTP2PoolConfiguration.defaultInitialStreamWindow
    ) {
        self.connectionsPerLoop = connectionsPerLoop
        self.maxConnectionsPerLoop = maxConnectionsPerLoop
        self.maxStreamsPerConnection = maxStreamsPerConnection
        self.idleTimeout = idleTimeout
        self.initialStreamWindow = initialStreamWindow
    }
}

/// How new sessions pick among an upstream's healthy endpoints (`upstreams.<name>.balance`).
enum UpstreamBalance: String, Sendable, Equatable, CaseIterable {
    /// Each new session starts with the next endpoint.
    case roundRobin = "round_robin"
    /// The endpoint with the fewest sessions (open or opening) on the client's EventLoop, whatever
    /// the transport; the rotation breaks ties.
    case leastConnections = "least_connections"
}
