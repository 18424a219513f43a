/// A socket that accepts client connections: plain TCP, or TLS when `tls` is set.
struct ListenerConfiguration: Sendable, Equatable {
    /// A name for logs and metrics. Default in YAML: `listener_<n>`, `n` counting from 1 in file order.
    var name: String
    /// The address to bind. Required; port 0 binds an ephemeral port.
    var address: SocketAddressSpec
    /// TLS termination. Default: none (plain `ws://`).
    var tls: ListenerTLSConfiguration?

    /// Creates a listener configuration.
    init(name: String, address: SocketAddressSpec, tls: ListenerTLSConfiguration? = nil) {
        self.name = name
        self.address = address
        self.tls = tls
    }
}
