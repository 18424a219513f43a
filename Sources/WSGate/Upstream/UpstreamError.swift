import NIOHTTP1

/// Why an upstream leg could not be opened, and what the waiting client is answered with.
struct UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// TCP connect failed or timed out.
        case unreachable
        /// The upstream answered the upgrade with a non-101 status.
        case refused(status: HTTPResponseStatus)
        /// The upstream's answer broke RFC 6455 (bad accept key, a subprotocol nobody offered, ...).
        case invalidResponse
        /// The connection closed or timed out during the handshake.
        case handshakeFailed
        /// An HTTP/2 upstream refused the stream (REFUSED_STREAM, or no stream could be had in time)
        /// after the retry: the client may try again later.
        case streamRefused

        /// The name `/stats` counts the failure under.
        var name: String {
            switch self {
            case .unreachable: return "unreachable"
            case .refused: return "refused"
            case .invalidResponse: return "invalid_response"
            case .handshakeFailed: return "handshake_failed"
            case .streamRefused: return "stream_refused"
            }
        }
    }

    var kind: Kind
    var detail: String

    init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    var description: String { "\(self.kind): \(self.detail)" }

    /// The status the waiting client is answered with: the upstream's own 4xx passes through, a
    /// refused stream is 503 (try again later), anything else is 502.
    var clientStatus: HTTPResponseStatus {
        switch self.kind {
        case .refused(let status) where (400..<500).contains(status.code): return status
        case .streamRefused: return .serviceUnavailable
        case .refused, .unreachable, .invalidResponse, .handshakeFailed: return .badGateway
        }
    }

    /// The reason shown to the waiting client.
    var clientMessage: String {
        switch self.kind {
        case .refused(let status) where (400..<500).contains(status.code):
            return "upstream refused the WebSocket: \(self.detail)"
        case .streamRefused:
            return "upstream refused the stream: \(self.detail)"
        case .refused, .unreachable, .invalidResponse, .handshakeFailed:
            return "upstream unavailable: \(self.detail)"
        }
    }
}
