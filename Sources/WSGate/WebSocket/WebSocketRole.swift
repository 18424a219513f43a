/// Which end of a WebSocket connection the gateway plays on a leg. It decides masking (RFC 6455
/// section 5.3): a client masks every frame it sends, a server never does.
enum WebSocketRole: Sendable, Hashable {
    /// The gateway is the server: the client leg.
    case server
    /// The gateway is the client: the upstream leg.
    case client
}
