import Prometheus

/// Every `/metrics` family, in one place. Names and labels are a contract: dashboards and alerts are
/// built on them. `route` is the route's name (`route_<n>` when the file gives none), `upstream` the
/// upstream's name, `direction` `client_to_upstream` or `upstream_to_client`.
struct MetricName: Sendable {
    /// The part between `wsgate_` and the unit suffix.
    var base: String
    /// The last part of the name (`total`, `seconds`, `bytes`, ...).
    var unit: String
    var help: String

    var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "wsgate", metricName: self.base, unitName: self.unit, helpText: self.help)
    }

    /// `{route}` gauge.
    static let connectionsActive = Self(base: "connections", unit: "active", help: "WebSocket sessions running now.")
    /// `{route}` counter.
    static let connectionsTotal = Self(base: "connections", unit: "total", help: "WebSocket sessions started (101 answered).")
    /// `{route,direction}` counter: data messages, once per message.
    static let messages = Self(
        base: "messages",
        unit: "total",
        help: "Data messages relayed (text and binary, once per message)."
    )
    /// `{route,direction}` counter: payload bytes as the upstream leg sees them (uncompressed).
    static let bytes = Self(
        base: "bytes",
        unit: "total",
        help: "Payload bytes relayed, uncompressed (as the upstream leg sees them)."
    )
    /// `{route,direction}` counter: client-leg payload bytes of compressed messages, compressed.
    static let compressedBytes = Self(
        base: "compressed_bytes",
        unit: "total",
        help: "Client-leg payload bytes of permessage-deflate messages, compressed."
    )
    /// `{route,code,side}` counter; `side` is who closed first: client, upstream or gateway.
    static let closeCodes = Self(
        base: "close_codes",
        unit: "total",
        help: "Sessions ended, by close code and by who closed first."
    )
    /// `{route,status}` counter; handshakes refused before a route matched have `route=""`.
    static let handshakeFailures = Self(
        base: "handshake_failures",
        unit: "total",
        help: "WebSocket handshakes refused, by HTTP status."
    )
    /// `{route,direction}` counter: a leg stopped taking data, so the other leg stopped reading.
    static let backpressurePauses = Self(
        base: "backpressure_pauses",
        unit: "total",
        help: "Backpressure pauses, by the direction that was held."
    )
    /// `{route,direction}` counter: seconds of finished pauses.
    static let backpressurePausedSeconds = Self(
        base: "backpressure_paused_seconds",
        unit: "total",
        help: "Seconds the direction was held by backpressure (finished pauses)."
    )
    /// `{route,limit}` counter.
    static let limitHits = Self(base: "limit_hits", unit: "total", help: "Limits reached, by limit.")
    /// `{route}` counter.
    static let authAdmitted = Self(base: "auth_admitted", unit: "total", help: "Clients admitted by the route's auth.")
    /// `{route,reason}` counter.
    static let authRefusals = Self(base: "auth_refusals", unit: "total", help: "Clients refused by the route's auth, by reason.")
    /// `{route,direction}` histogram of completed data message sizes.
    static let messageBytes = Self(base: "message", unit: "bytes", help: "Sizes of data messages, uncompressed.")
    /// `{route,class}` counter: proxied HTTP requests by status class (`2xx`; `0xx`: no answer).
    static let httpRequests = Self(
        base: "http_requests",
        unit: "total",
        help: "Proxied HTTP requests, by status class of the answer."
    )
    /// `{route,direction}` counter: body bytes of proxied HTTP requests and responses.
    static let httpBodyBytes = Self(base: "http_body_bytes", unit: "total", help: "Body bytes of proxied HTTP messages.")
    /// `{route}` histogram: request head written upstream to response head read.
    static let httpUpstreamLatency = Self(
        base: "http_upstream_latency",
        unit: "seconds",
        help: "Time from a proxied request's head sent upstream to the response head."
    )
    /// `{route}` counter.
    static let httpStaleRetries = Self(
        base: "http_stale_retries",
        unit: "total",
        help: "Requests sent again on a fresh connection after their pooled one closed before answering."
    )
    /// `{upstream}` histogram: connect to 101 of successful upstream legs.
    static let upstreamConnectSeconds = Self(
        base: "upstream_connect",
        unit: "seconds",
        help: "Time to open an upstream leg (TCP, TLS, handshake)."
    )
    /// `{upstream}` counter.
    static let upstreamConnects = Self(base: "upstream_connects", unit: "total", help: "Upstream legs opened.")
    /// `{upstream,reason}` counter.
    static let upstreamConnectFailures = Self(
        base: "upstream_connect_failures",
        unit: "total",
        help: "Upstream connection attempts that failed, by reason."
    )
    /// `{upstream,endpoint}` gauge: open one-to-one connections (pooled upstreams: the pool's connections).
    static let upstreamConnections = Self(base: "upstream", unit: "connections", help: "Open upstream connections, by endpoint.")
    /// `{listener}` counter.
    static let tlsHandshakeFailures = Self(
        base: "tls_handshake_failures",
        unit: "total",
        help: "Failed TLS handshakes on a listener."
    )
    /// `{loop}` gauge.
    static let eventLoopConnections = Self(base: "event_loop", unit: "connections", help: "WebSocket sessions per EventLoop.")
    /// `{protocol}` gauge: client connections open, `http/1.1` or `h2` (a TLS one once ALPN chose).
    static let clientConnectionsOpen = Self(
        base: "client_connections",
        unit: "open",
        help: "Client connections open, by protocol (http/1.1, h2)."
    )
    /// `{protocol}` counter.
    static let clientConnectionsTotal = Self(
        base: "client_connections",
        unit: "total",
        help: "Client connections opened, by protocol (http/1.1, h2)."
    )
    /// Gauge: streams open on client HTTP/2 connections.
    static let http2StreamsOpen = Self(base: "http2_streams", unit: "open", help: "Streams open on client HTTP/2 connections.")
    /// Counter.
    static let http2StreamsTotal = Self(base: "http2_streams", unit: "total", help: "Streams clients opened on HTTP/2 connections.")
    /// Counter: extended CONNECT streams that became WebSocket sessions.
    static let http2WebSocketStreams = Self(
        base: "http2_websocket_streams",
        unit: "total",
        help: "Client WebSockets over HTTP/2 streams (RFC 8441 extended CONNECT)."
    )
    /// Counter.
    static let http2ConnectionErrors = Self(
        base: "http2_connection_errors",
        unit: "total",
        help: "Client HTTP/2 connections ended by a connection error (floods, rapid reset, protocol errors)."
    )
    /// Gauge.
    static let uptime = Self(base: "uptime", unit: "seconds", help: "Seconds since the gateway started.")
}
