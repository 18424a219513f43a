/// Client connections by the protocol they speak, and the streams of the HTTP/2 ones, on one
/// EventLoop. A TLS connection counts once its ALPN chose (`h2`, else HTTP/1.1); a plain one is
/// HTTP/1.1 from accept.
final class ClientProtocolCounters {
    private(set) var figures = ClientProtocolFigures()

    init() {}

    func connectionOpened(http2: Bool) {
        if http2 {
            self.figures.http2Connections.opened += 1
            self.figures.http2Connections.open += 1
        } else {
            self.figures.http1Connections.opened += 1
            self.figures.http1Connections.open += 1
        }
    }

    func connectionClosed(http2: Bool) {
        if http2 {
            self.figures.http2Connections.open -= 1
        } else {
            self.figures.http1Connections.open -= 1
        }
    }

    func streamOpened() {
        self.figures.http2Streams.opened += 1
        self.figures.http2Streams.open += 1
    }

    func streamClosed() {
        self.figures.http2Streams.open -= 1
    }

    /// An extended CONNECT stream became a WebSocket session.
    func webSocketStreamStarted() {
        self.figures.http2WebSocketStreams += 1
    }

    /// A connection the HTTP/2 layer closed with an error (a flood, a protocol error, a rapid reset).
    func http2ConnectionFailed() {
        self.figures.http2ConnectionErrors += 1
    }
}

@available(*, unavailable)
extension ClientProtocolCounters: Sendable {}

/// What ``ClientProtocolCounters`` counted: on one loop, or summed over the gateway's. In `/stats`
/// as `client_protocols` (docs/stats.md).
struct ClientProtocolFigures: Sendable, Equatable, Encodable {
    /// Opened since start, and open now.
    struct Gauge: Sendable, Equatable, Encodable {
        var opened = 0
        var open = 0
    }

    private struct HTTP1: Encodable {
        var connections: Gauge
    }

    private struct HTTP2: Encodable {
        var connections: Gauge
        var streams: Gauge
        var websocketStreams: Int
        var connectionErrors: Int

        enum CodingKeys: String, CodingKey {
            case connections, streams
            case websocketStreams = "websocket_streams"
            case connectionErrors = "connection_errors"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case http1 = "http/1.1"
        case h2
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(HTTP1(connections: self.http1Connections), forKey: .http1)
        try container.encode(
            HTTP2(
                connections: self.http2Connections,
                streams: self.http2Streams,
                websocketStreams: self.http2WebSocketStreams,
                connectionErrors: self.http2ConnectionErrors
            ),
            forKey: .h2
        )
    }

    var http1Connections = Gauge()
    var http2Connections = Gauge()
    /// Streams clients opened on HTTP/2 connections (requests and WebSockets).
    var http2Streams = Gauge()
    /// Extended CONNECT streams that became WebSocket sessions (RFC 8441).
    var http2WebSocketStreams = 0
    /// HTTP/2 connections ended by a connection error the gateway saw (GOAWAY with an error).
    var http2ConnectionErrors = 0

    mutating func merge(_ other: ClientProtocolFigures) {
        self.http1Connections.opened += other.http1Connections.opened
        self.http1Connections.open += other.http1Connections.open
        self.http2Connections.opened += other.http2Connections.opened
        self.http2Connections.open += other.http2Connections.open
        self.http2Streams.opened += other.http2Streams.opened
        self.http2Streams.open += other.http2Streams.open
        self.http2WebSocketStreams += other.http2WebSocketStreams
        self.http2ConnectionErrors += other.http2ConnectionErrors
    }
}
