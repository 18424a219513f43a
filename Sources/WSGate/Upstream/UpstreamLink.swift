import NIOCore
import NIOHTTP1

/// An upstream leg whose WebSocket handshake succeeded, ready to join a proxy session.
struct UpstreamLink: Sendable {
    /// The upstream connection; nil for the built-in echo, which has no upstream connection.
    var channel: (any Channel)?
    /// The upstream's 101 answer (nil for the echo).
    var response: HTTPResponseHead?
    /// The endpoint that answered, for logs and stats.
    var endpoint: String

    /// The subprotocol the upstream chose.
    var subprotocol: String? { self.response?.headers.first(name: "Sec-WebSocket-Protocol") }
}

/// The names of the handlers of an upstream connection during its handshake.
enum UpstreamPipelineNames {
    static let encoder = "upstream-http-encoder"
    static let decoder = "upstream-http-decoder"
    static let handshake = "upstream-handshake"
}
