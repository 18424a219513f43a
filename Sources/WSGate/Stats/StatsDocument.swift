import Foundation
import NIOCore

/// The `/stats` document (docs/stats.md): every field name of its JSON is a coding key here or in
/// ``RouteDocument`` and ``UpstreamDocument``; the figures come from ``GatewayStatsSnapshot`` and
/// ``StatsDocument/GatewayInfo``.
///
/// Optional fields that the document shows as `null`, rather than leaving out, are ``EncodedAsNull``.
struct StatsDocument: Encodable, Sendable {
    /// Inputs of `/stats` besides the per-loop figures, gathered by the admin endpoint.
    struct GatewayInfo: Sendable {
        var uptime: TimeAmount
        var startedAt: Date
        var configuration: Configuration
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
        var openFiles: OpenFiles
        var limits: GatewayLimits
        /// The last samples of what the sessions queue and what zlib holds (the counting allocator).
        var memory: (queued: Int, zlib: Int)
        var memoryPressure: MemoryBudget.Pressure
    }

    /// The served configuration and the last reload's outcome.
    struct Configuration: Encodable, Sendable {
        var version: Int
        /// SHA-256 of the file as loaded; `null` for a gateway built from a value.
        @EncodedAsNull var hash: String?
        @EncodedAsNull var file: String?
        /// ISO 8601.
        var loadedAt: String
        @EncodedAsNull var lastReloadError: String?

        enum CodingKeys: String, CodingKey {
            case version, hash, file
            case loadedAt = "loaded_at"
            case lastReloadError = "last_reload_error"
        }
    }

    /// RLIMIT_NOFILE.
    struct OpenFiles: Encodable, Sendable {
        var soft: Int
        var hard: Int
    }

    struct Unrouted: Encodable, Sendable {
        var handshakeFailures: [String: Int]
        var limitHits: [String: Int]

        enum CodingKeys: String, CodingKey {
            case handshakeFailures = "handshake_failures"
            case limitHits = "limit_hits"
        }
    }

    struct Listener: Encodable, Sendable {
        var address: String
        /// TLS listeners only.
        var tlsHandshakeFailures: Int?

        enum CodingKeys: String, CodingKey {
            case address
            case tlsHandshakeFailures = "tls_handshake_failures"
        }
    }

    struct EventLoop: Encodable, Sendable {
        var index: Int
        var connections: Int
    }

    struct Limits: Encodable, Sendable {
        var connections: Int
        var maxConnections: Int
        var maxConnectionsPerIP: Int
        var pendingHandshakes: Int
        var maxPendingHandshakes: Int
        var openFiles: OpenFiles

        enum CodingKeys: String, CodingKey {
            case connections
            case maxConnections = "max_connections"
            case maxConnectionsPerIP = "max_connections_per_ip"
            case pendingHandshakes = "pending_handshakes"
            case maxPendingHandshakes = "max_pending_handshakes"
            case openFiles = "open_files"
        }
    }

    struct Memory: Encodable, Sendable {
        var maxMemory: Int
        var queuedBytes: Int
        var zlibBytes: Int
        /// `normal`, `near`, `full` or `over`.
        var pressure: String

        enum CodingKeys: String, CodingKey {
            case maxMemory = "max_memory"
            case queuedBytes = "queued_bytes"
            case zlibBytes = "zlib_bytes"
            case pressure
        }
    }

    var uptimeSeconds: Double
    var startedAt: String
    var config: Configuration
    var statsEnabled: Bool
    var totals: RouteDocument
    var routes: [String: RouteDocument]
    var unrouted: Unrouted
    var upstreams: [String: UpstreamDocument]
    var listeners: [String: Listener]
    var eventLoops: [EventLoop]
    var limits: Limits
    var memory: Memory
    /// Client connections by protocol, and the streams of the HTTP/2 ones.
    var clientProtocols: ClientProtocolFigures

    enum CodingKeys: String, CodingKey {
        case uptimeSeconds = "uptime_seconds"
        case startedAt = "started_at"
        case config
        case statsEnabled = "stats_enabled"
        case totals, routes, unrouted, upstreams, listeners
        case eventLoops = "event_loops"
        case limits, memory
        case clientProtocols = "client_protocols"
    }

    init(_ snapshot: GatewayStatsSnapshot, _ info: GatewayInfo) {
        var routes: [String: RouteDocument] = [:]
        for route in info.routes {
            var document = RouteDocument(snapshot.routes[route.name] ?? RouteStats())
            document.upstream = route.upstream
            routes[route.name] = document
        }
        // Routes a reload removed keep their figures.
        for (name, figures) in snapshot.routes where name != StatsLoopState.unrouted && routes[name] == nil {
            routes[name] = RouteDocument(figures)
        }
        let unrouted = snapshot.routes[StatsLoopState.unrouted] ?? RouteStats()
        self.uptimeSeconds = Double(info.uptime.nanoseconds) / 1e9
        self.startedAt = info.startedAt.ISO8601Format()
        self.config = info.configuration
        self.statsEnabled = info.countsTraffic
        self.totals = RouteDocument(snapshot.totals)
        self.routes = routes
        self.unrouted = Unrouted(
            handshakeFailures: RouteDocument.byStatus(unrouted.handshakeFailures),
            limitHits: unrouted.limitHits
        )
        self.upstreams = info.upstreams.reduce(into: [:]) { upstreams, entry in
            upstreams[entry.key] = UpstreamDocument(
                snapshot.upstreams[entry.key] ?? UpstreamStats(),
                protocol: entry.value,
                pool: snapshot.pools[entry.key],
                endpoints: snapshot.endpoints[entry.key] ?? []
            )
        }
        self.listeners = info.listeners.reduce(into: [:]) { listeners, entry in
            listeners[entry.key] = Listener(address: entry.value, tlsHandshakeFailures: info.tlsHandshakeFailures[entry.key])
        }
        self.eventLoops = snapshot.eventLoopSessions.enumerated().map { EventLoop(index: $0.offset, connections: $0.element) }
        self.limits = Limits(
            connections: info.admittedConnections,
            maxConnections: info.limits.maxConnections,
            maxConnectionsPerIP: info.limits.maxConnectionsPerIP,
            pendingHandshakes: info.pendingHandshakes,
            maxPendingHandshakes: info.limits.maxPendingHandshakes,
            openFiles: info.openFiles
        )
        self.memory = Memory(
            maxMemory: info.limits.maxMemory,
            queuedBytes: info.memory.queued,
            zlibBytes: info.memory.zlib,
            pressure: "\(info.memoryPressure)"
        )
        self.clientProtocols = snapshot.protocols
    }
}
