/// A pooled upstream connection lent to one proxied HTTP request by the upstream opener
/// (``UpstreamLoopOpener/openHTTP(fresh:counters:)``), given back exactly once.
final class HTTPUpstreamLease {
    let connection: HTTP1PooledConnection
    /// The endpoint (`host:port`), for logs and stats.
    let endpoint: String
    private var onRelease: ((Bool) -> Void)?

    init(connection: HTTP1PooledConnection, endpoint: String, onRelease: @escaping (Bool) -> Void) {
        self.connection = connection
        self.endpoint = endpoint
        self.onRelease = onRelease
    }

    /// Whether the connection was idle in the pool before (the upstream may have closed it since).
    var reused: Bool { self.connection.reused }

    /// Gives the connection back: to the pool when `reusable` (its exchange ended cleanly on both
    /// sides), else it is closed. Later calls do nothing.
    func release(reusable: Bool) {
        self.onRelease?(reusable)
        self.onRelease = nil
    }
}

@available(*, unavailable)
extension HTTPUpstreamLease: Sendable {}
