/// The counters of one route on one EventLoop, bumped on that loop only (no lock, no atomic).
///
/// Sessions count their own messages and bytes (``SessionTraffic``) and fold them in here when they
/// end; readers add the live sessions' figures (``StatsLoopState/snapshot()``). Everything else
/// (connections, closes, pauses, limit hits, message sizes) is recorded here as it happens.
final class RouteCounters {
    private(set) var stats = RouteStats()
    /// permessage-deflate's counters for this route, bumped by the codec of each compressed connection.
    let compression = CompressionCounters()
    /// The route's proxied HTTP requests.
    let http = RouteHTTPCounters()

    func sessionStarted() {
        self.stats.connectionsActive += 1
        self.stats.connectionsTotal += 1
    }

    /// Folds a finished session's traffic in and counts how it closed.
    func sessionEnded(traffic: SessionTraffic, close: RouteStats.CloseKey?) {
        self.stats.connectionsActive -= 1
        self.stats.messages = self.stats.messages + traffic.messages
        self.stats.bytes = self.stats.bytes + traffic.bytes
        if let close {
            self.stats.closes[close, default: 0] += 1
        }
    }

    func handshakeFailed(status: Int) {
        self.stats.handshakeFailures[status, default: 0] += 1
    }

    func limitHit(_ limit: String) {
        self.stats.limitHits[limit, default: 0] += 1
    }

    func authAdmitted() {
        self.stats.auth.admitted += 1
    }

    func authRefused(_ reason: String) {
        self.stats.auth.refused[reason, default: 0] += 1
    }

    func messageCompleted(_ direction: TrafficDirection, size: Int) {
        self.stats.messageBytes[direction].observe(size)
    }

    func backpressurePaused(_ direction: TrafficDirection) {
        self.stats.backpressurePauses[direction] += 1
    }

    func backpressureResumed(_ direction: TrafficDirection, afterNanoseconds nanoseconds: Int64) {
        self.stats.backpressurePausedNanoseconds[direction] += Int(nanoseconds)
    }
}

@available(*, unavailable)
extension RouteCounters: Sendable {}
