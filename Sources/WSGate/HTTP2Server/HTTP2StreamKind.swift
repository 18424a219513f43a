import NIOHPACK

/// What a client's HTTP/2 stream asks for, read from its first HEADERS (``HTTP2StreamRouter``): it
/// decides which handlers serve the stream.
enum HTTP2StreamKind: Sendable, Equatable {
    /// A request the HTTP proxy serves, through NIO's HTTP/2 to HTTP/1 codec.
    case request
    /// A `CONNECT`: with `:protocol` (RFC 8441 section 4, an extended CONNECT) a tunnel for that
    /// protocol; without, a plain tunnel, which the gateway does not serve (501). NIO's HTTP/1 codec
    /// drops `:protocol` and needs `:path`, which a plain CONNECT lacks, so these take the gateway's
    /// own opening (``ExtendedConnectServerCodec``).
    case connect(protocol: String?)
    /// HEADERS the gateway refuses before routing them (400, with the reason): a `host` field
    /// naming another authority than `:authority` (RFC 9113 section 8.3.1), which would let a route
    /// chosen by one name serve another. They take the gateway's own opening, which reads any method.
    case malformed(String)

    /// The kind of the stream whose request HEADERS are `headers`.
    init(requestHeaders headers: HPACKHeaders) {
        if let authority = headers.first(name: ":authority"),
            headers["host"].contains(where: { $0.lowercased() != authority.lowercased() })
        {
            self = .malformed("host does not name the :authority")
            return
        }
        guard headers.first(name: ":method") == "CONNECT" else {
            self = .request
            return
        }
        self = .connect(protocol: headers.first(name: ":protocol"))
    }

    /// Whether the stream asks for a WebSocket tunnel (`:protocol websocket`, RFC 8441 section 4).
    var isWebSocket: Bool {
        guard case .connect(let name?) = self else { return false }
        return name.lowercased() == "websocket"
    }
}
