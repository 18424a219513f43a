/// Why a leg failed: reported by its endpoint, read by the session to tell who ended it and which
/// limit was hit, and given to an endpoint to fail its leg, wherever the violation was found.
enum WebSocketFailure: Hashable, Sendable, CustomStringConvertible {
    /// The connection closed or broke before the close handshake was done; nothing can be sent.
    case connectionLost(String)
    /// The peer broke RFC 6455 or RFC 7692: failed with the error's code (1002, 1007).
    case protocolViolation(WebSocketProtocolError)
    /// The peer went past a size limit: failed with 1009.
    case limitExceeded(WebSocketLimit, reason: String)
    /// The peer left a keepalive ping unanswered: failed with 1001.
    case pingTimeout
    /// The gateway could not go on with the leg (compressing failed): failed with 1011.
    case internalError(String)

    /// The failure a thrown protocol error stands for.
    init(_ error: WebSocketProtocolError) {
        if let limit = error.limit {
            self = .limitExceeded(limit, reason: error.reason)
        } else {
            self = .protocolViolation(error)
        }
    }

    /// The code the leg is failed with on the wire; nil when the connection was lost.
    var code: WebSocketCloseCode? {
        switch self {
        case .connectionLost: nil
        case .protocolViolation(let error): error.code
        case .limitExceeded: .messageTooBig
        case .pingTimeout: .goingAway
        case .internalError: .internalError
        }
    }

    var reason: String {
        switch self {
        case .connectionLost(let reason), .limitExceeded(_, let reason), .internalError(let reason): reason
        case .protocolViolation(let error): error.reason
        case .pingTimeout: "peer did not answer ping"
        }
    }

    /// Code and reason, as the close frame the failing endpoint sends carries them.
    var status: WebSocketCloseStatus { WebSocketCloseStatus(code: self.code, reason: self.reason) }

    var description: String { self.status.description }
}

/// A size limit of one leg's endpoint (`limits.max_frame`, `limits.max_message`).
enum WebSocketLimit: Hashable, Sendable {
    case maxFrame
    case maxMessage
}
