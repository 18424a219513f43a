/// Per-connection limits and timers of a proxied WebSocket.
///
/// In YAML these come from `defaults.limits`, and a route's `limits` override single keys on top of
/// them, so a loaded route always carries a fully resolved value.
struct Limits: Sendable, Equatable {
    /// The largest frame payload accepted from either side, in bytes. Default: 64 MiB.
    var maxFrame: Int
    /// The largest reassembled message accepted from either side, in bytes. Default: 64 MiB.
    var maxMessage: Int
    /// How long a client may take to complete the opening handshake. Default: 10 s.
    var handshakeTimeout: Duration
    /// How long a connection may carry no frames before it is closed; `.zero` disables. Default: 120 s.
    var idleTimeout: Duration
    /// How often the gateway pings an otherwise quiet client; `.zero` disables. Default: 30 s.
    var pingInterval: Duration
    /// How long to wait for the peer's close frame after sending ours. Default: 5 s.
    var closeTimeout: Duration
    /// The most data messages a client may send in one second; more closes the session with 1008.
    /// `0` means no limit. Default: 0.
    var maxMessagesPerSecond: Int
    /// The largest handshake request head (request line and headers) in bytes; larger gets 431.
    /// Only `defaults.limits` applies (the route is not known yet). Default: 16 KiB.
    var maxHeaderBytes: Int
    /// The most header fields in the handshake request; more gets 431. Default: 100.
    var maxHeaders: Int
    /// The most connections a route serves at once (handshakes in progress included); more get 503
    /// with `Retry-After`. In `defaults.limits` it is the cap of each route, not a sum. `0` means no
    /// limit. Default: 0.
    var maxConnections: Int
    /// The largest body of a proxied HTTP request, in bytes; a larger `Content-Length` gets 413
    /// before any of it is read, a chunked body 413 (or the connection closed) when it grows past it.
    /// `0` means no limit. Default: 64 MiB.
    var maxRequestBody: Int
    /// How long the upstream may take to answer a proxied HTTP request with its response head, from
    /// the request head written to it; longer gets 504. Default: 60 s.
    var responseTimeout: Duration

    /// Creates limits; every parameter defaults to the documented built-in value.
    init(
        maxFrame: Int = 64 * 1024 * 1024,
        maxMessage: Int = 64 * 1024 * 1024,
        handshakeTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(120),
        pingInterval: Duration = .seconds(30),
        closeTimeout: Duration = .seconds(5),
        maxMessagesPerSecond: Int = 0,
        maxHeaderBytes: Int = 16 * 1024,
        maxHeaders: Int = 100,
        maxConnections: Int = 0,
        maxRequestBody: Int = 64 * 1024 * 1024,
        responseTimeout: Duration = .seconds(60)
    ) {
        self.maxFrame = maxFrame
        self.maxMessage = maxMessage
        self.handshakeTimeout = handshakeTimeout
        self.idleTimeout = idleTimeout
        self.pingInterval = pingInterval
        self.closeTimeout = closeTimeout
        self.maxMessagesPerSecond = maxMessagesPerSecond
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaders = maxHeaders
        self.maxConnections = maxConnections
        self.maxRequestBody = maxRequestBody
        self.responseTimeout = responseTimeout
    }
}
