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

    /// Takes the HTTP/1.1 codec out of the pipeline; the future completes once the decoder has handed
    /// the bytes it read past the 101 to the handshake handler, which keeps them. Nothing but the
    /// handshake may be written to the leg before then: a frame would reach the HTTP codec.
    func retireHTTPCodec(_ pipeline: ChannelPipeline.SynchronousOperations, on eventLoop: any EventLoop) -> EventLoopFuture<Void>
    {
        switch self {
        case .http1:
            pipeline.removeHandler(name: UpstreamPipelineNames.encoder, promise: nil)
            return pipeline.removeHandler(name: UpstreamPipelineNames.decoder)
        case .http2Stream:
            return eventLoop.makeSucceededVoidFuture()
        }
    }

    /// Retires the handshake handler once the session's handlers sit behind it: it hands on what
    /// arrived with the handshake answer.
    func finishHandOver(_ pipeline: ChannelPipeline.SynchronousOperations) {
        switch self {
        case .http1:
            pipeline.removeHandler(name: UpstreamPipelineNames.handshake, promise: nil)
        case .http2Stream:
            // The stream handler stays: it is the framing between DATA frames and bytes.
            (try? pipeline.handler(type: ExtendedConnectStreamHandler.self))?.startForwarding()
        }
    }
}

/// The names of the handlers of an upstream connection during its handshake.
enum UpstreamPipelineNames {
    static let encoder = "upstream-http-encoder"
    static let decoder = "upstream-http-decoder"
    static let handshake = "upstream-handshake"
    static let tls = "upstream-tls"
}
