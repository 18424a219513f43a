import Foundation
import NIOCore

/// The `/stats` and `/stats/connections` documents: every field name of the JSON is written here
/// (and documented in docs/stats.md); the figures come from ``GatewayStatsSnapshot`` and
/// ``ConnectionInfo``.
enum StatsJSON {
    /// Inputs of `/stats` besides the per-loop figures.
    struct GatewayInfo: Sendable {
        var uptime: TimeAmount
        var startedAt: Date
        var configuration: ConfigurationStatus
        var countsTraffic: Bool
        /// Route name → upstream name, in file order.
        var routes: [(name: String, upstream: String)]
        /// Upstream name → protocol.
        var upstreams: [String: String]
        /// Listener name → bound address.
        var listeners: [String: String]
        var tlsHandshakeFailures: [String: Int]
        var admittedConnections: Int
        var pendingHandshakes: Int
        var openFiles: OpenFileLimit
        var limits: GatewayLimits
        /// Last samples of ``GatewayMemory``.
        var memory: (queued: Int, zlib: Int)
        var memoryPressure: MemoryBudget.Pressure
    }

    static func stats(_ snapshot: GatewayStatsSnapshot, _ info: GatewayInfo) -> [String: Any] {
        var routes: [String: Any] = [:]
        for route in info.routes {
            var object = Self.route(snapshot.routes[route.name] ?? RouteStats())
            object["upstream"] = route.upstream
            routes[route.name] = object
        }
        // Routes a reload removed keep their figures.
        for (name, figures) in snapshot.routes where name != StatsLoopState.unrouted && routes[name] == nil {
            routes[name] = Self.route(figures)
        }
        var upstreams: [String: Any] = [:]
        for (name, kind) in info.upstreams {
            var object = Self.upstream(snapshot.upstreams[name] ?? UpstreamStats(), pool: snapshot.pools[name])
            object["protocol"] = kind
            upstreams[name] = object
        }
        let unrouted = snapshot.routes[StatsLoopState.unrouted] ?? RouteStats()
        return [
            "uptime_seconds": Self.seconds(info.uptime),
            "started_at": Self.timestamp(info.startedAt),
            "config": [
                "version": info.configuration.version,
                "hash": info.configuration.sha256 ?? NSNull(),
                "file": info.configuration.file ?? NSNull(),
                "loaded_at": Self.timestamp(info.configuration.loadedAt),
                "last_reload_error": info.configuration.lastReloadError ?? NSNull(),
            ] as [String: Any],
            "stats_enabled": info.countsTraffic,
            "totals": Self.route(snapshot.totals),
            "routes": routes,
            "unrouted": ["handshake_failures": Self.byKey(unrouted.handshakeFailures), "limit_hits": unrouted.limitHits],
            "upstreams": upstreams,
            "listeners": info.listeners.reduce(into: [String: Any]()) { listeners, entry in
                var listener: [String: Any] = ["address": entry.value]
                if let failures = info.tlsHandshakeFailures[entry.key] {
                    listener["tls_handshake_failures"] = failures
                }
                listeners[entry.key] = listener
            },
            "event_loops": snapshot.eventLoopSessions.enumerated().map { ["index": $0.offset, "connections": $0.element] },
            "limits": [
                "connections": info.admittedConnections,
                "max_connections": info.limits.maxConnections,
                "max_connections_per_ip": info.limits.maxConnectionsPerIP,
                "pending_handshakes": info.pendingHandshakes,
                "max_pending_handshakes": info.limits.maxPendingHandshakes,
                "open_files": ["soft": info.openFiles.soft, "hard": info.openFiles.hard],
            ],
            "memory": [
                "max_memory": info.limits.maxMemory,
                "queued_bytes": info.memory.queued,
                "zlib_bytes": info.memory.zlib,
                "pressure": "\(info.memoryPressure)",
            ] as [String: Any],
        ]
    }

    static func route(_ figures: RouteStats) -> [String: Any] {
        var closes: [String: [String: Int]] = ["client": [:], "upstream": [:], "gateway": [:]]
        for (key, count) in figures.closes {
            closes[key.side.rawValue, default: [:]][String(key.code)] = count
        }
        return [
            "connections": ["active": figures.connectionsActive, "total": figures.connectionsTotal],
            "handshake_failures": Self.byKey(figures.handshakeFailures),
            "messages": Self.directions(figures.messages),
            "bytes": Self.directions(figures.bytes),
            "message_bytes": [
                TrafficDirection.clientToUpstream.rawValue: Self.histogram(figures.messageBytes.clientToUpstream, scale: 1),
                TrafficDirection.upstreamToClient.rawValue: Self.histogram(figures.messageBytes.upstreamToClient, scale: 1),
            ],
            "compression": [
                "connections": figures.compression.negotiatedConnections,
                "messages": Self.directions(figures.compression.messages),
                "compressed_bytes": Self.directions(figures.compression.compressedBytes),
                "uncompressed_bytes": Self.directions(figures.compression.uncompressedBytes),
            ] as [String: Any],
            "closes": closes,
            "backpressure": [
                "pauses": Self.directions(figures.backpressurePauses),
                "paused_seconds": [
                    TrafficDirection.clientToUpstream.rawValue: Double(figures.backpressurePausedNanoseconds.clientToUpstream) / 1e9,
                    TrafficDirection.upstreamToClient.rawValue: Double(figures.backpressurePausedNanoseconds.upstreamToClient) / 1e9,
                ],
            ],
            "limit_hits": figures.limitHits,
        ]
    }

    static func upstream(_ figures: UpstreamStats, pool: [UpstreamEndpointStats]? = nil) -> [String: Any] {
        [
            "connects": figures.connects,
            "connect_failures": figures.connectFailures,
            "connect_seconds": Self.histogram(figures.connectNanoseconds, scale: 1e-9),
            "connections": figures.openConnections.filter { $0.value != 0 },
            // The per-endpoint state of pooled (HTTP/2) upstreams; null for other protocols.
            "pool": pool.map { endpoints in endpoints.map(Self.poolEndpoint) } ?? NSNull(),
        ]
    }

    static func poolEndpoint(_ stats: UpstreamEndpointStats) -> [String: Any] {
        [
            "endpoint": stats.endpoint,
            "healthy": stats.isHealthy,
            "healthy_loops": stats.healthyLoops,
            "loops": stats.loops,
            "connections_open": stats.connectionsOpen,
            "streams_active": stats.streamsActive,
            "streams_opened": stats.counters.streamsOpened,
            "streams_failed": stats.counters.streamsFailed,
            "streams_refused": stats.counters.streamsRefused,
            "goaways": stats.counters.goAways,
            "connect_failures": stats.counters.connectFailures,
            "sessions_lost": stats.counters.sessionsLost,
        ]
    }

    static func connections(_ connections: [ConnectionInfo], matching: Int) -> [String: Any] {
        [
            "count": matching,
            "connections": connections.map { connection -> [String: Any] in
                let identity = connection.identity
                return [
                    "id": Int(identity.id),
                    "route": identity.route,
                    "client_address": identity.clientAddress.map(AccessLogEntry.address) ?? NSNull(),
                    "upstream_endpoint": identity.upstreamEndpoint,
                    "path": identity.path,
                    "subprotocol": identity.subprotocol ?? NSNull(),
                    "compressed": identity.compressed,
                    "age_seconds": Self.seconds(connection.age),
                    "messages": Self.directions(connection.traffic.messages),
                    "bytes": Self.directions(connection.traffic.bytes),
                    "buffered_bytes": ["toward_client": connection.bufferedTowardClient, "toward_upstream": connection.bufferedTowardUpstream],
                    "paused": ["toward_client": connection.pausedTowardClient, "toward_upstream": connection.pausedTowardUpstream],
                ]
            },
        ]
    }

    /// Serialized with sorted keys, so the document is stable.
    static func encode(_ object: [String: Any]) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data("{}".utf8)
        return Array(data) + [UInt8(ascii: "\n")]
    }

    private static func directions(_ counts: PerDirection<Int>) -> [String: Int] {
        [
            TrafficDirection.clientToUpstream.rawValue: counts.clientToUpstream,
            TrafficDirection.upstreamToClient.rawValue: counts.upstreamToClient,
        ]
    }

    private static func byKey(_ counts: [Int: Int]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: counts.map { (String($0.key), $0.value) })
    }

    /// `{count, sum, buckets: [{le, count}]}`, bucket counts cumulative as in Prometheus; `scale`
    /// converts the recorded unit (nanoseconds to seconds).
    private static func histogram(_ histogram: ExactHistogram, scale: Double) -> [String: Any] {
        var cumulative = 0
        var buckets: [[String: Any]] = []
        for (index, bound) in histogram.bounds.enumerated() {
            cumulative += histogram.counts[index]
            buckets.append(["le": scale == 1 ? bound as Any : Double(bound) * scale, "count": cumulative])
        }
        return [
            "count": histogram.count,
            "sum": scale == 1 ? histogram.sum as Any : Double(histogram.sum) * scale,
            "buckets": buckets,
        ]
    }

    private static func seconds(_ amount: TimeAmount) -> Double {
        Double(amount.nanoseconds) / 1e9
    }

    private static func timestamp(_ date: Date) -> String {
        date.ISO8601Format()
    }
}
