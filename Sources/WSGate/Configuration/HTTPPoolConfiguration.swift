/// The per-EventLoop keep-alive pools of HTTP/1.1 connections that carry proxied HTTP requests
/// (`upstreams.<name>.http_pool`, for `websocket` and `http` upstreams). Each EventLoop keeps its own
/// pool per endpoint; the counts are per loop and per endpoint.
struct HTTPPoolConfiguration: Sendable, Equatable {
    /// Idle connections kept per loop and endpoint; one more finishing its response is closed.
    /// Default: 1024, above any likely concurrency, so `idle_timeout` is what trims the pool (as
    /// HAProxy's and Envoy's pools, which cap no idle count): a cap below the requests in flight
    /// closes a connection after most responses when answers come in bursts (a connect per request).
    var maxIdlePerLoop: Int
    /// How long an idle connection is kept before the gateway closes it. Default: 30 s.
    var idleTimeout: Duration
    /// Requests one connection carries before it is closed; `0` means no limit. Default: 1000.
    var maxRequests: Int

    init(maxIdlePerLoop: Int = 1024, idleTimeout: Duration = .seconds(30), maxRequests: Int = 1000) {
        self.maxIdlePerLoop = maxIdlePerLoop
        self.idleTimeout = idleTimeout
        self.maxRequests = maxRequests
    }
}
