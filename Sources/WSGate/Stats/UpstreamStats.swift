/// The figures of one upstream, as a value: one EventLoop's or the sum over all loops.
struct UpstreamStats: Sendable, Equatable {
    /// Upstream legs opened (TCP connect, TLS and WebSocket handshake all done).
    var connects = 0
    /// Attempts that failed, by reason (`unreachable`, `refused`, `invalid_response`, `handshake_failed`).
    var connectFailures: [String: Int] = [:]
    /// Time to open a leg (connect to 101), successful attempts only.
    var connectNanoseconds = ExactHistogram(bounds: ExactHistogram.connectTimeBounds)
    /// Open upstream TCP connections by endpoint (`host:port`): one-to-one legs, and for pooled
    /// upstreams the pools' connections (filled in from the pools when read).
    var openConnections: [String: Int] = [:]

    mutating func merge(_ other: UpstreamStats) {
        self.connects += other.connects
        self.connectFailures.merge(other.connectFailures, uniquingKeysWith: +)
        self.connectNanoseconds.merge(other.connectNanoseconds)
        self.openConnections.merge(other.openConnections, uniquingKeysWith: +)
    }
}

/// The counters of one upstream on one EventLoop (no lock, no atomic: bumped on that loop only,
/// once per connection attempt).
final class UpstreamCounters {
    private(set) var stats = UpstreamStats()

    /// A leg opened. `ownsConnection`: a one-to-one leg is its own TCP connection (counted open until
    /// ``connectionClosed(endpoint:)``); a stream on a pooled connection is not.
    func connected(endpoint: String, after nanoseconds: Int64, ownsConnection: Bool = true) {
        self.stats.connects += 1
        self.stats.connectNanoseconds.observe(Int(nanoseconds))
        if ownsConnection {
            self.stats.openConnections[endpoint, default: 0] += 1
        }
    }

    func connectionClosed(endpoint: String) {
        self.stats.openConnections[endpoint, default: 0] -= 1
    }

    /// An attempt failed; `reason` names how (`unreachable`, `refused`, ...).
    func connectFailed(reason: String) {
        self.stats.connectFailures[reason, default: 0] += 1
    }
}

@available(*, unavailable)
extension UpstreamCounters: Sendable {}
