/// The way to the upstream lent to one proxied HTTP request by the upstream opener
/// (``UpstreamLoopOpener/openHTTP(fresh:counters:)``): a pooled HTTP/1.1 connection, or a stream of
/// a pooled HTTP/2 connection (`websocket-h2`). Either way the exchange speaks HTTP/1-shaped parts
/// to its ``HTTP1UpstreamHandler``. Given back exactly once.
final class HTTPUpstreamLease {
    /// The last handler of the connection's channel, or the stream's: what the exchange writes to and hears from.
    let handler: HTTP1UpstreamHandler
    /// The endpoint (`host:port`), for logs and stats.
    let endpoint: String
    /// Whether the way may have closed under the request before any answer for reasons of its own:
    /// a connection that was idle in the pool (the upstream may have closed it since), or any
    /// HTTP/2 stream (a GOAWAY or REFUSED_STREAM race). The exchange may retry once on a fresh one.
    let reused: Bool
    private var onRelease: ((Bool) -> Void)?

    init(
        handler: HTTP1UpstreamHandler,
        endpoint: String,
        reused: Bool,
        onRelease: @escaping (Bool) -> Void
    ) {
        self.handler = handler
        self.endpoint = endpoint
        self.reused = reused
        self.onRelease = onRelease
    }

    /// Gives the way back: a connection to its pool when `reusable` (its exchange ended cleanly on
    /// both sides), else it is closed; a stream is closed (reset, if it had not ended both ways).
    /// Later calls do nothing.
    func release(reusable: Bool) {
        self.onRelease?(reusable)
        self.onRelease = nil
    }
}

@available(*, unavailable)
extension HTTPUpstreamLease: Sendable {}
