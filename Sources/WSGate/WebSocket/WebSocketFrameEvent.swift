import NIOCore
import NIOWebSocket

/// What flows between a leg's WebSocket endpoint and the proxy session, in both directions.
///
/// Data frames travel as a header followed by payload slices, so no frame or message is ever held whole;
/// control frames are answered by each endpoint itself, except close, which the session relays.
/// A frame ends with the slice marked `endsFrame`, or at its head when it announces no payload
/// (``WebSocketDataFrameHead/endsFrame``): whoever follows frames reads the marker instead of counting
/// bytes down. One case per slice keeps the marker free: no extra event travels the pipeline.
///
/// An event is wrapped in `NIOAny` for every pipeline step, whose inline storage holds three words: the
/// enum stays within them (the rare failure is boxed, `indirect`), so passing an event allocates nothing.
enum WebSocketFrameEvent: Sendable, Equatable {
    /// The start of a data frame; `payloadLength` bytes of `payload` events follow, the last of them
    /// marked `endsFrame` (none when `payloadLength` is 0: the head ends the frame).
    case frameHead(WebSocketDataFrameHead)
    /// A non-empty slice of the current data frame's payload (unmasked); `endsFrame` on its last one.
    case payload(ByteBuffer, endsFrame: Bool)
    /// Inbound: the peer started or answered the close handshake with this status.
    /// Outbound: close this leg with this status.
    case close(WebSocketCloseStatus)
    /// Inbound: the leg failed for this reason; the endpoint has already failed it.
    /// Outbound: fail this leg (RFC 6455 section 7.1.7): send a close with the failure's code and drop
    /// the connection without waiting for the peer's answer.
    indirect case failed(WebSocketFailure)
}

/// The parts of a data frame header that survive from one leg to the other (masks are per leg).
struct WebSocketDataFrameHead: Sendable, Equatable {
    /// `.text`, `.binary` or `.continuation`.
    var opcode: WebSocketOpcode
    var fin: Bool
    /// RSV1: the message is compressed (only meaningful with permessage-deflate negotiated).
    var compressed: Bool
    var payloadLength: Int

    init(opcode: WebSocketOpcode, fin: Bool, compressed: Bool = false, payloadLength: Int) {
        self.opcode = opcode
        self.fin = fin
        self.compressed = compressed
        self.payloadLength = payloadLength
    }

    /// Whether the head is the whole frame: no payload follows, the frame ends here.
    var endsFrame: Bool { self.payloadLength == 0 }
}
