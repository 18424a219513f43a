import NIOCore
import NIOWebSocket

/// What flows between a leg's WebSocket endpoint and the proxy session, in both directions.
///
/// Data frames travel as a header followed by payload slices, so no frame or message is ever held whole;
/// control frames are answered by each endpoint itself, except close, which the session relays.
public enum WebSocketFrameEvent: Sendable, Equatable {
    /// The start of a data frame; exactly `payloadLength` bytes of `payload` events follow.
    case frameHead(WebSocketDataFrameHead)
    /// A slice of the current data frame's payload (unmasked).
    case payload(ByteBuffer)
    /// Inbound: the peer started or answered the close handshake with this status.
    /// Outbound: close this leg with this status.
    case close(WebSocketCloseStatus)
    /// Inbound only: the leg failed (protocol violation by the peer, or the connection was lost).
    /// The endpoint has already closed it; the status says what happened.
    case failed(WebSocketCloseStatus)
}

/// The parts of a data frame header that survive from one leg to the other (masks are per leg).
public struct WebSocketDataFrameHead: Sendable, Equatable {
    /// `.text`, `.binary` or `.continuation`.
    public var opcode: WebSocketOpcode
    public var fin: Bool
    /// RSV1: the message is compressed (only meaningful with permessage-deflate negotiated).
    public var compressed: Bool
    public var payloadLength: Int

    public init(opcode: WebSocketOpcode, fin: Bool, compressed: Bool = false, payloadLength: Int) {
        self.opcode = opcode
        self.fin = fin
        self.compressed = compressed
        self.payloadLength = payloadLength
    }
}
