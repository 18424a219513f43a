/// One route's figures in `/stats` (`totals`, `routes.NAME`; docs/stats.md, ROUTE).
struct RouteDocument: Encodable, Sendable {
    struct Connections: Encodable, Sendable {
        var active: Int
        var total: Int
    }

    struct Compression: Encodable, Sendable {
        var connections: Int
        var messages: PerDirection<Int>
        var compressedBytes: PerDirection<Int>
        var uncompressedBytes: PerDirection<Int>

        enum CodingKeys: String, CodingKey {
            case connections, messages
            case compressedBytes = "compressed_bytes"
            case uncompressedBytes = "uncompressed_bytes"
        }
    }

    struct Backpressure: Encodable, Sendable {
        var pauses: PerDirection<Int>
        var pausedSeconds: PerDirection<Double>

        enum CodingKeys: String, CodingKey {
            case pauses
            case pausedSeconds = "paused_seconds"
        }
    }

    var connections: Connections
    /// By HTTP status.
    var handshakeFailures: [String: Int]
    var messages: PerDirection<Int>
    var bytes: PerDirection<Int>
    var messageBytes: PerDirection<HistogramDocument<Int>>
    var compression: Compression
    /// By side (`client`, `upstream`, `gateway`, each always present), then by close code.
    var closes: [String: [String: Int]]
    var backpressure: Backpressure
    var limitHits: [String: Int]
    /// Clients admitted and refused by the route's `auth`, refusals by reason.
    var auth: AuthFigures
    var http: HTTP
    /// The route's upstream: configured routes only (not `totals`, nor a route a reload removed).
    var upstream: String?

    enum CodingKeys: String, CodingKey {
        case connections
        case handshakeFailures = "handshake_failures"
        case messages, bytes
        case messageBytes = "message_bytes"
        case compression, closes, backpressure
        case limitHits = "limit_hits"
        case auth
        case http
        case upstream
    }

    /// Proxied HTTP requests: by status class, body bytes, upstream latency.
    struct HTTP: Encodable, Sendable {
        var requests: [String: Int]
        var bodyBytes: PerDirection<Int>
        var upstreamLatencySeconds: HistogramDocument<Double>
        var staleRetries: Int

        enum CodingKeys: String, CodingKey {
            case requests
            case bodyBytes = "body_bytes"
            case upstreamLatencySeconds = "upstream_latency_seconds"
            case staleRetries = "stale_retries"
        }

        init(_ figures: RouteHTTPStats) {
            self.requests = figures.requests
            self.bodyBytes = figures.bodyBytes
            self.upstreamLatencySeconds = HistogramDocument(nanoseconds: figures.upstreamLatencyNanoseconds)
            self.staleRetries = figures.staleRetries
        }
    }

    init(_ figures: RouteStats) {
        var closes: [String: [String: Int]] = [:]
        for side in [SessionSide.client, .upstream, .gateway] {
            closes[side.rawValue] = [:]
        }
        for (key, count) in figures.closes {
            closes[key.side.rawValue, default: [:]][String(key.code)] = count
        }
        self.connections = Connections(active: figures.connectionsActive, total: figures.connectionsTotal)
        self.handshakeFailures = Self.byStatus(figures.handshakeFailures)
        self.messages = figures.messages
        self.bytes = figures.bytes
        self.messageBytes = PerDirection(
            clientToUpstream: HistogramDocument(figures.messageBytes.clientToUpstream),
            upstreamToClient: HistogramDocument(figures.messageBytes.upstreamToClient)
        )
        self.compression = Compression(
            connections: figures.compression.negotiatedConnections,
            messages: figures.compression.messages,
            compressedBytes: figures.compression.compressedBytes,
            uncompressedBytes: figures.compression.uncompressedBytes
        )
        self.closes = closes
        self.backpressure = Backpressure(
            pauses: figures.backpressurePauses,
            pausedSeconds: PerDirection(
                clientToUpstream: Double(figures.backpressurePausedNanoseconds.clientToUpstream) / 1e9,
                upstreamToClient: Double(figures.backpressurePausedNanoseconds.upstreamToClient) / 1e9
            )
        )
        self.limitHits = figures.limitHits
        self.auth = figures.auth
        self.http = HTTP(figures.http)
    }

    /// Counts by HTTP status, keyed by the status as text (JSON keys are strings).
    static func byStatus(_ counts: [Int: Int]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: counts.map { (String($0.key), $0.value) })
    }
}

/// An ``ExactHistogram`` in `/stats`: `{count, sum, buckets: [{le, count}]}`, bucket counts cumulative
/// as in Prometheus. `Value` is how bounds and sum are written: whole bytes (`Int`) or seconds (`Double`).
struct HistogramDocument<Value: Encodable & Sendable & Equatable>: Encodable, Sendable, Equatable {
    struct Bucket: Encodable, Sendable, Equatable {
        var le: Value
        var count: Int
    }

    var count: Int
    var sum: Value
    var buckets: [Bucket]

    /// `scale` converts a recorded whole number into `Value`.
    init(_ histogram: ExactHistogram, scale: (Int) -> Value) {
        var cumulative = 0
        var buckets: [Bucket] = []
        for (index, bound) in histogram.bounds.enumerated() {
            cumulative += histogram.counts[index]
            buckets.append(Bucket(le: scale(bound), count: cumulative))
        }
        self.count = histogram.count
        self.sum = scale(histogram.sum)
        self.buckets = buckets
    }
}

extension HistogramDocument where Value == Int {
    /// Whole numbers as recorded (bytes).
    init(_ histogram: ExactHistogram) {
        self.init(histogram) { $0 }
    }
}

extension HistogramDocument where Value == Double {
    /// Recorded in nanoseconds, written in seconds.
    init(nanoseconds histogram: ExactHistogram) {
        self.init(histogram) { Double($0) * 1e-9 }
    }
}
