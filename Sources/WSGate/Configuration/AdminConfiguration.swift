/// The admin endpoint: `/stats`, `/stats/connections`, `/metrics`, `/healthz`, `/readyz` and the
/// dashboard at `/`.
struct AdminConfiguration: Sendable, Equatable {
    /// The address the admin endpoint binds. Default: `127.0.0.1:9901`, loopback only on purpose.
    var address: SocketAddressSpec
    /// When set, every admin request must carry `Authorization: Bearer <token>` (else 401).
    /// Default: none.
    var token: String?
    /// Allows a non-loopback `address` without a `token`. Default: `false` (such a file is refused).
    var allowRemote: Bool
    /// Whether sessions count their messages, bytes and message sizes (a few integer additions per
    /// frame). `false` leaves those figures at zero; connections, closes, handshakes, limits and
    /// upstream figures are counted either way. Default: `true`.
    var stats: Bool
    /// Admin connections open at once; one more is closed at accept. Default: 64.
    var maxConnections: Int
    /// An admin connection with no request for this long is closed. Default: 30 s.
    var idleTimeout: Duration
    /// TLS on the admin listener, the same shape as a listener's `tls`. Default: none (plain HTTP).
    var tls: ListenerTLSConfiguration?

    /// The admin address used when the configuration does not set one: `127.0.0.1:9901`.
    static let defaultAddress = SocketAddressSpec(host: "127.0.0.1", port: 9901)

    /// Creates an admin configuration. Default address: `127.0.0.1:9901`, no token, stats on, at most
    /// 64 connections idle for 30 s, no TLS.
    init(
        address: SocketAddressSpec = AdminConfiguration.defaultAddress,
        token: String? = nil,
        allowRemote: Bool = false,
        stats: Bool = true,
        maxConnections: Int = 64,
        idleTimeout: Duration = .seconds(30),
        tls: ListenerTLSConfiguration? = nil
    ) {
        self.address = address
        self.token = token
        self.allowRemote = allowRemote
        self.stats = stats
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.tls = tls
    }
}
