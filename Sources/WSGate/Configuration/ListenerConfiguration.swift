/// A socket that accepts client connections: plain TCP, or TLS when `tls` is set.
struct ListenerConfiguration: Sendable, Equatable {
    /// A name for logs and metrics. Default in YAML: `listener_<n>`, `n` counting from 1 in file order.
    var name: String
    /// The address to bind. Required; port 0 binds an ephemeral port.
    var address: SocketAddressSpec
    /// TLS termination. Default: none (plain `ws://`).
    var tls: ListenerTLSConfiguration?
    /// HTTP/2 toward clients, on a TLS listener (ALPN `h2`). Default: off (``ListenerHTTP2Configuration/enabled``).
    var http2: ListenerHTTP2Configuration

    /// Creates a listener configuration.
    init(
        name: String,
        address: SocketAddressSpec,
        tls: ListenerTLSConfiguration? = nil,
        http2: ListenerHTTP2Configuration = ListenerHTTP2Configuration()
    ) {
        self.name = name
        self.address = address
        self.tls = tls
        self.http2 = http2
    }

    /// Whether connections may speak HTTP/2: a TLS listener with `http2.enabled`.
    var servesHTTP2: Bool { self.tls != nil && self.http2.enabled }
}
