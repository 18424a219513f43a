/// The proxied HTTP requests of one route, as a value: one EventLoop's or the sum over all loops
/// (`/stats` ROUTE.http, the `wsgate_http_*` families).
struct RouteHTTPStats: Sendable, Equatable {
    /// Requests answered, by status class (`1xx` … `5xx`; `0xx`: the client left before an answer).
    var requests: [String: Int] = [:]
    /// Body bytes: of requests (client to upstream) and of responses (upstream to client).
    var bodyBytes = PerDirection<Int>.zero
    /// From the request head written upstream to the response head read, answered requests only.
    var upstreamLatencyNanoseconds = ExactHistogram(bounds: ExactHistogram.connectTimeBounds)
    /// Requests sent again on a fresh connection after their pooled one closed before answering.
    var staleRetries = 0

    /// `404` → `4xx`.
    static func statusClass(_ status: Int) -> String {
        "\(min(max(status / 100, 0), 9))xx"
    }

    mutating func merge(_ other: RouteHTTPStats) {
        self.requests.merge(other.requests, uniquingKeysWith: +)
        self.bodyBytes = self.bodyBytes + other.bodyBytes
        self.upstreamLatencyNanoseconds.merge(other.upstreamLatencyNanoseconds)
        self.staleRetries += other.staleRetries
    }
}

/// The proxied HTTP requests of one route on one EventLoop, counted once per request on that loop.
final class RouteHTTPCounters {
    private(set) var stats = RouteHTTPStats()

    /// A request ended with `status` (0: no answer) after moving these body bytes;
    /// `upstreamLatencyNanoseconds` when the upstream answered.
    func requestEnded(status: Int, requestBytes: Int, responseBytes: Int, upstreamLatencyNanoseconds: Int64?) {
        self.stats.requests[RouteHTTPStats.statusClass(status), default: 0] += 1
        self.stats.bodyBytes =
            self.stats.bodyBytes
            + PerDirection(clientToUpstream: requestBytes, upstreamToClient: responseBytes)
        if let upstreamLatencyNanoseconds {
            self.stats.upstreamLatencyNanoseconds.observe(Int(upstreamLatencyNanoseconds))
        }
    }

    func staleRetried() {
        self.stats.staleRetries += 1
    }
}

@available(*, unavailable)
extension RouteHTTPCounters: Sendable {}
