/// Which side of a proxied WebSocket session something came from.
public enum SessionSide: String, Sendable, Hashable {
    case client
    case upstream
    /// The gateway itself (a protocol violation it detected, a timeout, a shutdown).
    case gateway
}
