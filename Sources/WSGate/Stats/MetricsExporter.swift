import NIOConcurrencyHelpers
import Prometheus

/// `/metrics`: a swift-prometheus `PrometheusCollectorRegistry` brought up to date from the per-loop
/// figures at each scrape, then rendered by the library.
///
/// The frame path never touches the registry (its metrics take a lock per update): the EventLoops
/// count in plain integers (``StatsLoopState``), and a scrape adds to each Prometheus counter the
/// difference between the summed figure and what it exported last time, and sets the gauges. The
/// histograms are kept per loop as exact bucket counts and per-bucket sums (``ExactHistogram``);
/// swift-prometheus histograms only take single observations, so a scrape replays each bucket's new
/// observations as whole values inside that bucket whose sum is the bucket's exact new sum. Bucket
/// counts, `_count` and `_sum` are then exact, at the price of one `record` per observation since
/// the last scrape, paid by the scrape (off the EventLoops), never by the traffic.
final class MetricsExporter: Sendable {
    private struct State: Sendable {
        /// The last value handed to each counter, by family and labels.
        var exported: [String: Int] = [:]
        var exportedHistograms: [String: ExactHistogram] = [:]
    }

    /// Inputs of `/metrics` besides the per-loop figures.
    struct Info: Sendable {
        var uptimeSeconds: Double
        /// Every configured route with its upstream name (so idle routes show zeros).
        var routes: [String]
        var upstreams: [String]
        var tlsHandshakeFailures: [String: Int]
    }

    private let registry = PrometheusCollectorRegistry()
    /// Serializes scrapes (held for a scrape, never by an EventLoop).
    private let state = NIOLockedValueBox(State())

    /// Updates the registry from `snapshot` and returns the exposition text.
    func scrape(_ snapshot: GatewayStatsSnapshot, _ info: Info) -> [UInt8] {
        self.state.withLockedValue { state in
            var update = Update(registry: self.registry, state: state)
            update.apply(snapshot, info)
            state = update.state
            return self.registry.emitToBuffer()
        }
    }

    private struct Update {
        let registry: PrometheusCollectorRegistry
        var state: State

        mutating func apply(_ snapshot: GatewayStatsSnapshot, _ info: Info) {
            self.registry.makeGauge(descriptor: MetricName.uptime.descriptor).set(info.uptimeSeconds)
            var routes = Set(info.routes)
            routes.formUnion(snapshot.routes.keys.filter { $0 != StatsLoopState.unrouted })
            for route in routes.sorted() {
                self.route(route, snapshot.routes[route] ?? RouteStats())
            }
            for (status, count) in (snapshot.routes[StatsLoopState.unrouted]?.handshakeFailures ?? [:]) {
                self.count(.handshakeFailures, [("route", ""), ("status", String(status))], count)
            }
            var upstreams = Set(info.upstreams)
            upstreams.formUnion(snapshot.upstreams.keys)
            for upstream in upstreams.sorted() {
                self.upstream(upstream, snapshot.upstreams[upstream] ?? UpstreamStats())
            }
            for (listener, failures) in info.tlsHandshakeFailures {
                self.count(.tlsHandshakeFailures, [("listener", listener)], failures)
            }
            self.protocols(snapshot.protocols)
            for (index, sessions) in snapshot.eventLoopSessions.enumerated() {
                self.registry.makeGauge(descriptor: MetricName.eventLoopConnections.descriptor, labels: [("loop", String(index))])
                    .set(Int64(sessions))
            }
        }

        private mutating func route(_ route: String, _ figures: RouteStats) {
            let label = ("route", route)
            self.registry.makeGauge(descriptor: MetricName.connectionsActive.descriptor, labels: [label])
                .set(Int64(figures.connectionsActive))
            self.count(.connectionsTotal, [label], figures.connectionsTotal)
            for direction in TrafficDirection.allCases {
                let labels = [label, ("direction", direction.rawValue)]
                self.count(.messages, labels, figures.messages[direction])
                self.count(.bytes, labels, figures.bytes[direction])
                self.count(.compressedBytes, labels, figures.compression.compressedBytes[direction])
                self.count(.backpressurePauses, labels, figures.backpressurePauses[direction])
                self.countSeconds(
                    .backpressurePausedSeconds,
                    labels,
                    nanoseconds: figures.backpressurePausedNanoseconds[direction]
                )
                self.histogram(.messageBytes, labels, figures.messageBytes[direction], inNanoseconds: false)
            }
            for (key, count) in figures.closes {
                self.count(.closeCodes, [label, ("code", String(key.code)), ("side", key.side.rawValue)], count)
            }
            for (status, count) in figures.handshakeFailures {
                self.count(.handshakeFailures, [label, ("status", String(status))], count)
            }
            for (limit, count) in figures.limitHits {
                self.count(.limitHits, [label, ("limit", limit)], count)
            }
            if figures.auth != AuthFigures() {
                self.count(.authAdmitted, [label], figures.auth.admitted)
            }
            for (reason, count) in figures.auth.refused {
                self.count(.authRefusals, [label, ("reason", reason)], count)
            }
            for (statusClass, count) in figures.http.requests {
                self.count(.httpRequests, [label, ("class", statusClass)], count)
            }
            for direction in TrafficDirection.allCases {
                self.count(.httpBodyBytes, [label, ("direction", direction.rawValue)], figures.http.bodyBytes[direction])
            }
            self.histogram(.httpUpstreamLatency, [label], figures.http.upstreamLatencyNanoseconds, inNanoseconds: true)
            self.count(.httpStaleRetries, [label], figures.http.staleRetries)
        }

        private mutating func protocols(_ figures: ClientProtocolFigures) {
            for (name, gauge) in [("http/1.1", figures.http1Connections), ("h2", figures.http2Connections)] {
                let labels = [("protocol", name)]
                self.registry.makeGauge(descriptor: MetricName.clientConnectionsOpen.descriptor, labels: labels).set(Int64(gauge.open))
                self.count(.clientConnectionsTotal, labels, gauge.opened)
            }
            self.registry.makeGauge(descriptor: MetricName.http2StreamsOpen.descriptor).set(Int64(figures.http2Streams.open))
            self.count(.http2StreamsTotal, [], figures.http2Streams.opened)
            self.count(.http2WebSocketStreams, [], figures.http2WebSocketStreams)
            self.count(.http2ConnectionErrors, [], figures.http2ConnectionErrors)
        }

        private mutating func upstream(_ upstream: String, _ figures: UpstreamStats) {
            let label = ("upstream", upstream)
            self.count(.upstreamConnects, [label], figures.connects)
            for (reason, count) in figures.connectFailures {
                self.count(.upstreamConnectFailures, [label, ("reason", reason)], count)
            }
            self.histogram(.upstreamConnectSeconds, [label], figures.connectNanoseconds, inNanoseconds: true)
            for (endpoint, open) in figures.openConnections {
                self.registry.makeGauge(
                    descriptor: MetricName.upstreamConnections.descriptor,
                    labels: [label, ("endpoint", endpoint)]
                )
                .set(Int64(open))
            }
        }

        /// Raises the counter to `value`.
        private mutating func count(_ metric: MetricName, _ labels: [(String, String)], _ value: Int) {
            let counter = self.registry.makeCounter(descriptor: metric.descriptor, labels: labels)
            let key = Self.key(metric, labels)
            let delta = value - self.state.exported[key, default: 0]
            guard delta > 0 else { return }
            counter.increment(by: Int64(delta))
            self.state.exported[key] = value
        }

        /// Raises a seconds counter to `nanoseconds`, kept exact in nanoseconds between scrapes.
        private mutating func countSeconds(_ metric: MetricName, _ labels: [(String, String)], nanoseconds: Int) {
            let counter = self.registry.makeCounter(descriptor: metric.descriptor, labels: labels)
            let key = Self.key(metric, labels)
            let delta = nanoseconds - self.state.exported[key, default: 0]
            guard delta > 0 else { return }
            counter.increment(by: Double(delta) / 1e9)
            self.state.exported[key] = nanoseconds
        }

        /// Replays the observations made since the last scrape (see the type's comment).
        private mutating func histogram(
            _ metric: MetricName,
            _ labels: [(String, String)],
            _ figures: ExactHistogram,
            inNanoseconds: Bool
        ) {
            let key = Self.key(metric, labels)
            let last = self.state.exportedHistograms[key] ?? ExactHistogram(bounds: figures.bounds)
            if inNanoseconds {
                let histogram = self.registry.makeDurationHistogram(
                    descriptor: metric.descriptor,
                    labels: labels,
                    buckets: figures.bounds.map { Duration.nanoseconds($0) }
                )
                Self.replay(figures, since: last) { histogram.record(Duration.nanoseconds($0)) }
            } else {
                let histogram = self.registry.makeValueHistogram(
                    descriptor: metric.descriptor,
                    labels: labels,
                    buckets: figures.bounds.map(Double.init)
                )
                Self.replay(figures, since: last) { histogram.record(Double($0)) }
            }
            self.state.exportedHistograms[key] = figures
        }

        private static func replay(_ current: ExactHistogram, since last: ExactHistogram, _ record: (Int) -> Void) {
            for index in current.counts.indices {
                let values = ExactHistogram.replayValues(
                    count: current.counts[index] - last.counts[index],
                    sum: current.sums[index] - last.sums[index]
                )
                for (value, times) in values {
                    for _ in 0..<times { record(value) }
                }
            }
        }

        private static func key(_ metric: MetricName, _ labels: [(String, String)]) -> String {
            metric.base + "_" + metric.unit + labels.map { "|\($0.0)=\($0.1)" }.joined()
        }
    }
}
