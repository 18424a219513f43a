/// Which side of a proxied WebSocket session something came from (who closed first, in the close
/// counters and the access log).
enum SessionSide: String, Sendable, Hashable, CaseIterable {
    case client
    case upstream
    /// The gateway itself (a protocol violation it detected, a timeout, a shutdown).
    case gateway
}
