import NIOCore
import NIOHTTP1

/// An upstream leg whose WebSocket handshake succeeded, ready to join a proxy session: what the
/// opener (``UpstreamCluster/open(_:offeredSubprotocols:upstreams:counters:on:)``) hands back for
/// every transport, both handshakes (the HTTP/1.1 upgrade, the HTTP/2 extended CONNECT) included.
/// What differs between them is answered by `transport`.
struct UpstreamLink: Sendable {
    /// The upstream connection (or HTTP/2 stream); nil for the built-in echo, which has none.
    var channel: (any Channel)?
    /// The upstream's 101 (or, over HTTP/2, 2xx) answer; nil for the echo.
    var response: HTTPResponseHead?
    /// The endpoint that answered, for logs and stats.
    var endpoint: String
    /// What carries the leg, which says how its handshake handlers give way to the session's.
    var transport: UpstreamTransport = .http1

    /// The subprotocol the upstream chose.
    var subprotocol: String? { self.response?.headers.first(name: "Sec-WebSocket-Protocol") }
}

/// What carries an upstream leg.
enum UpstreamTransport: Sendable {
    /// A TCP (or TLS) connection after an HTTP/1.1 upgrade.
    case http1
    /// An HTTP/2 stream after an extended CONNECT (RFC 8441).
    case http2Stream

    /// Whether the channel is a socket: it takes the options the session sets (write water marks,
    /// buffered bytes) and its close leaves TIME_WAIT behind. A stream channel has its own flow
    /// controller instead (its writability follows the multiplexer's outbound water marks and the
    /// peer's stream window), and nothing to linger for after the close handshake.
    var isSocket: Bool {
        switch self {
        case .http1: return true
        case .http2Stream: return false
        }
    }
}
