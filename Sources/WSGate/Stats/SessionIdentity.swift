import NIOCore

/// What a proxy session is, fixed when it starts: for the connection list, the access log and the
/// per-route counters.
struct SessionIdentity: Sendable {
    /// Unique within the process (``SessionRegistry/makeID()``).
    var id: UInt64
    /// The route's name (generated for routes without one).
    var route: String
    /// The client's address as the gateway's socket sees it.
    var clientAddress: SocketAddress?
    /// The upstream endpoint serving the session ("echo" for the built-in echo).
    var upstreamEndpoint: String
    /// The request path the client asked for.
    var path: String
    /// The subprotocol agreed for the session, if any.
    var subprotocol: String?
    /// Whether permessage-deflate was negotiated with the client.
    var compressed: Bool
    /// When the session started (the 101 answer), for its age and duration.
    var started: NIODeadline
    /// The authenticated subject (`auth.subject_claim`), on a route with `auth`.
    var subject: String? = nil
    /// What the client leg rides on: `http/1.1` (a connection of its own, upgraded) or `h2` (an
    /// RFC 8441 stream of an HTTP/2 connection).
    var clientProtocol: String = "http/1.1"
}
