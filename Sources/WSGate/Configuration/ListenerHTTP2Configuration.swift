/// HTTP/2 toward clients on a TLS listener (`listeners[].http2`): whether ALPN offers `h2` beside
/// `http/1.1`, and the limits the gateway announces in its SETTINGS and enforces.
///
/// A browser that negotiated `h2` sends its page's requests as streams and opens its WebSockets as
/// RFC 8441 extended CONNECT streams on the same connection (the gateway announces
/// `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`). Plain listeners serve HTTP/1.1 only (no `h2c`).
struct ListenerHTTP2Configuration: Sendable, Equatable {
    /// Whether ALPN offers `h2` (before `http/1.1`). Default: true.
    var enabled: Bool
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`: streams (requests and WebSockets) a client may have open at
    /// once on one connection; a stream beyond it is refused (REFUSED_STREAM). Default: 100.
    var maxConcurrentStreams: Int
    /// `SETTINGS_MAX_HEADER_LIST_SIZE`: the largest request header block (decoded, RFC 9113 section
    /// 6.5.2 counting); a larger one resets its stream. Default: 16 KiB.
    var maxHeaderListSize: Int
    /// `SETTINGS_INITIAL_WINDOW_SIZE`: what a client may send on one stream before the gateway's
    /// WINDOW_UPDATE, which it sends only as the stream's reader (the upstream leg) takes the bytes.
    /// It is what one stalled stream may pin; the connection window is replenished as data arrives,
    /// so a stalled stream never stops its neighbours. Default: 64 KiB.
    var initialWindowSize: Int

    /// The most DATA a client may have sent that waits unread on one connection: every stream's
    /// window full while its reader holds (a handshake in progress, a session whose other leg is
    /// full). It sits in the stream channels, outside `limits.max_memory` (as an HTTP/1.1
    /// connection's unread bytes sit in its kernel receive buffer), so the reader caps it at 16 MiB.
    var maxUnreadBytes: Int { self.maxConcurrentStreams * self.initialWindowSize }

    static let defaultInitialWindowSize = 65_535

    init(enabled: Bool = true, maxConcurrentStreams: Int = 100, maxHeaderListSize: Int = 16 * 1024, initialWindowSize: Int = Self.defaultInitialWindowSize) {
        self.enabled = enabled
        self.maxConcurrentStreams = maxConcurrentStreams
        self.maxHeaderListSize = maxHeaderListSize
        self.initialWindowSize = initialWindowSize
    }
}
