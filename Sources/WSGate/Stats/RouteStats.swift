/// The figures of one route, as a value: what one EventLoop counted, or the sum over all loops.
///
/// Field names here map one to one to the `/stats` JSON (``RouteDocument``) and the `/metrics` families
/// (``MetricsExporter``).
struct RouteStats: Sendable, Equatable {
    /// How a session ended: the close code (1006 when the connection was lost without one) and who
    /// closed first.
    struct CloseKey: Sendable, Hashable {
        var code: Int
        var side: SessionSide
    }

    /// Sessions running now.
    var connectionsActive = 0
    /// Sessions started (101 answered) since the gateway started.
    var connectionsTotal = 0
    /// Refused handshakes by HTTP status.
    var handshakeFailures: [Int: Int] = [:]
    /// Data messages (text and binary, once per message) and their payload bytes, as the upstream
    /// leg sees them (after inflation).
    var messages = PerDirection<Int>.zero
    var bytes = PerDirection<Int>.zero
    /// Sessions ended, by close code and side.
    var closes: [CloseKey: Int] = [:]
    /// How often a leg stopped taking data (so the other leg stopped reading), and for how long in
    /// total (pauses that ended).
    var backpressurePauses = PerDirection<Int>.zero
    var backpressurePausedNanoseconds = PerDirection<Int>.zero
    /// Limits hit, by limit name (``LimitName``).
    var limitHits: [String: Int] = [:]
    /// Sizes of completed data messages.
    var messageBytes = PerDirection(ExactHistogram(bounds: ExactHistogram.messageSizeBounds))
    /// permessage-deflate on the client leg (from ``CompressionCounters``).
    var compression = CompressionFigures()
    /// Authentication at the edge (routes with `auth`).
    var auth = AuthFigures()
    /// Proxied HTTP requests (from ``RouteHTTPCounters``).
    var http = RouteHTTPStats()

    /// permessage-deflate figures of a route: client-leg payload bytes compressed and uncompressed,
    /// per direction, and the connections that negotiated it.
    struct CompressionFigures: Sendable, Equatable {
        var negotiatedConnections = 0
        var messages = PerDirection<Int>.zero
        /// Bytes on the client leg (compressed).
        var compressedBytes = PerDirection<Int>.zero
        /// The same messages' bytes uncompressed.
        var uncompressedBytes = PerDirection<Int>.zero

        init() {}

        init(_ counters: CompressionCounters) {
            self.negotiatedConnections = counters.negotiatedConnections
            self.messages = PerDirection(clientToUpstream: counters.inboundMessages, upstreamToClient: counters.outboundMessages)
            self.compressedBytes = PerDirection(
                clientToUpstream: counters.inboundCompressedBytes,
                upstreamToClient: counters.outboundCompressedBytes
            )
            self.uncompressedBytes = PerDirection(
                clientToUpstream: counters.inboundInflatedBytes,
                upstreamToClient: counters.outboundUncompressedBytes
            )
        }

        mutating func merge(_ other: CompressionFigures) {
            self.negotiatedConnections += other.negotiatedConnections
            self.messages = self.messages + other.messages
            self.compressedBytes = self.compressedBytes + other.compressedBytes
            self.uncompressedBytes = self.uncompressedBytes + other.uncompressedBytes
        }
    }

    mutating func merge(_ other: RouteStats) {
        self.connectionsActive += other.connectionsActive
        self.connectionsTotal += other.connectionsTotal
        self.handshakeFailures.merge(other.handshakeFailures, uniquingKeysWith: +)
        self.messages = self.messages + other.messages
        self.bytes = self.bytes + other.bytes
        self.closes.merge(other.closes, uniquingKeysWith: +)
        self.backpressurePauses = self.backpressurePauses + other.backpressurePauses
        self.backpressurePausedNanoseconds = self.backpressurePausedNanoseconds + other.backpressurePausedNanoseconds
        self.limitHits.merge(other.limitHits, uniquingKeysWith: +)
        for direction in TrafficDirection.allCases {
            self.messageBytes[direction].merge(other.messageBytes[direction])
        }
        self.compression.merge(other.compression)
        self.auth.merge(other.auth)
        self.http.merge(other.http)
    }
}

/// The names under which limit hits are counted (`limit` label, `limit_hits` keys).
enum LimitName {
    /// A frame over `max_frame` or a message over `max_message` (close 1009).
    static let maxMessage = "max_message"
    /// `max_messages_per_second` (close 1008).
    static let maxMessagesPerSecond = "max_messages_per_second"
    /// `backpressure.max_stall` or `backpressure.max_buffered` reached.
    static let backpressure = "backpressure"
    /// `idle_timeout` (close 1001).
    static let idleTimeout = "idle_timeout"
    /// The route's `limits.max_connections` (503).
    static let maxConnections = "max_connections"
    /// The gateway-wide `limits.max_connections` (503).
    static let globalMaxConnections = "global_max_connections"
    /// `limits.max_connections_per_ip` (503).
    static let maxConnectionsPerIP = "max_connections_per_ip"
    /// `limits.max_memory`: a new connection refused (503) or a session closed (1013).
    static let maxMemory = "max_memory"
    /// `limits.max_pending_handshakes`: closed at accept, counted under the unrouted figures.
    static let maxPendingHandshakes = "max_pending_handshakes"
    /// A session reached its token's `exp` plus `auth.expiry_grace` (close 1008).
    static let tokenExpired = "token_expired"
    /// `auth.limits.max_messages_per_second`, per subject across loops (close 1008).
    static let subjectMessagesPerSecond = "subject_max_messages_per_second"
}
