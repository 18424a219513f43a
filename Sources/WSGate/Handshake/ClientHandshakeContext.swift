/// What a client connection's handshake works with, fixed when the connection is accepted: the
/// configuration served at that moment (routes, upstreams, limits), the gateway's memory budget, and
/// what the session will share on the connection's EventLoop.
///
/// The gateway makes one per accepted connection, and one per stream of a client's HTTP/2
/// connection (``streamContext``); the handshake sees nothing else of it.
struct ClientHandshakeContext {
    let configuration: GatewayConfiguration
    let routeTable: RouteTable
    /// The upstreams by name.
    let clusters: [String: UpstreamCluster]
    /// The authentication of each route with `auth`, by route name.
    let authenticators: [String: RouteAuthenticator]
    /// The openers and pools of the upstreams on the connection's loop.
    let upstreamLoop: UpstreamLoopState
    /// What `limits.max_memory` is checked against.
    let memory: GatewayMemory
    /// The gateway's registry, counters and zlib state on the connection's loop, and the access log.
    let session: SessionEnvironment
    /// Set on a TLS listener: where failed TLS handshakes are counted.
    let tlsFailures: TLSHandshakeFailures?
    /// The gateway's HTTP proxy connections on the connection's loop (the memory budget's view).
    var httpProxies = HTTPProxyRegistry()
    /// The listener's `http2` settings, for a connection whose ALPN chose `h2`.
    var http2 = ListenerHTTP2Configuration()
    /// The gateway's client HTTP/2 connections on the connection's loop (the drain's GOAWAY).
    var http2Connections = HTTP2ConnectionRegistry()
    /// The context of a new stream of this connection once it negotiated `h2`: the configuration
    /// served when the stream opens, so a reload reaches the streams of a connection accepted before
    /// it as it reaches new connections. Nil (in tests): this context.
    var streamContext: (() -> ClientHandshakeContext)?
}

@available(*, unavailable)
extension ClientHandshakeContext: Sendable {}
