import Foundation
import NIOCore
import XCTest

@testable import WSGate

/// The `/stats` and `/stats/connections` documents on hand-made figures: the key names, nesting,
/// `null`s and number types that docs/stats.md promises.
final class StatsDocumentTests: XCTestCase {
    static func snapshot() -> GatewayStatsSnapshot {
        var route = RouteStats()
        route.connectionsActive = 2
        route.connectionsTotal = 5
        route.handshakeFailures = [503: 1]
        route.messages = PerDirection(clientToUpstream: 3, upstreamToClient: 4)
        route.bytes = PerDirection(clientToUpstream: 30, upstreamToClient: 40)
        route.closes = [RouteStats.CloseKey(code: 1000, side: .client): 2, RouteStats.CloseKey(code: 4002, side: .upstream): 1]
        route.backpressurePauses.upstreamToClient = 1
        route.backpressurePausedNanoseconds.upstreamToClient = 1_500_000_000
        route.limitHits = [LimitName.maxMessage: 1]
        route.messageBytes.clientToUpstream.observe(10)
        route.messageBytes.clientToUpstream.observe(300)
        route.compression.negotiatedConnections = 1
        var unrouted = RouteStats()
        unrouted.handshakeFailures = [404: 2]
        unrouted.limitHits = [LimitName.maxPendingHandshakes: 3]
        var gone = RouteStats()
        gone.connectionsTotal = 1
        var upstream = UpstreamStats()
        upstream.connects = 2
        upstream.connectFailures = ["refused": 1]
        upstream.connectNanoseconds.observe(2_000_000)
        upstream.openConnections = ["127.0.0.1:9001": 2, "127.0.0.1:9002": 0]
        var snapshot = GatewayStatsSnapshot(loops: [
            LoopStatsSnapshot(
                routes: ["app": route, StatsLoopState.unrouted: unrouted, "gone": gone],
                upstreams: ["app": upstream],
                sessions: 2
            ),
            LoopStatsSnapshot(routes: [:], upstreams: [:], sessions: 0),
        ])
        var endpoint = UpstreamEndpointStats(endpoint: "127.0.0.1:9443")
        endpoint.connectionsOpen = 1
        endpoint.loops = 2
        endpoint.healthyLoops = 2
        endpoint.counters.goAways = 1
        snapshot.pools = ["h2": [endpoint]]
        var up = UpstreamEndpointHealth(endpoint: "127.0.0.1:9001")
        up.loops = 2
        up.healthyLoops = 2
        up.activeLegs = 2
        var down = UpstreamEndpointHealth(endpoint: "127.0.0.1:9002")
        down.loops = 2
        down.healthyLoops = 1
        down.failuresInARow = 3
        snapshot.endpoints = ["app": [up, down]]
        return snapshot
    }

    static func info() -> StatsDocument.GatewayInfo {
        StatsDocument.GatewayInfo(
            uptime: .milliseconds(12_500),
            startedAt: Date(timeIntervalSince1970: 1_800_000_000),
            configuration: StatsDocument.Configuration(
                version: 2,
                hash: nil,
                file: nil,
                loadedAt: "2027-01-15T08:00:00Z",
                lastReloadError: nil
            ),
            countsTraffic: true,
            routes: [("app", "app")],
            upstreams: ["app": "websocket", "h2": "websocket-h2"],
            listeners: ["main": "127.0.0.1:8080", "tls": "127.0.0.1:8443"],
            tlsHandshakeFailures: ["tls": 4],
            admittedConnections: 2,
            pendingHandshakes: 1,
            openFiles: StatsDocument.OpenFiles(soft: 1024, hard: 4096),
            limits: GatewayLimits(maxConnections: 10, maxConnectionsPerIP: 5, maxPendingHandshakes: 100, maxMemory: 1 << 20),
            memory: (queued: 100, zlib: 40_000),
            memoryPressure: .near
        )
    }

    static func json(_ document: some Encodable) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(StatsDocumentEncoder.encode(document)))
        return try XCTUnwrap(object as? [String: Any])
    }

    func testTheStatsDocumentHasTheDocumentedShape() throws {
        let stats = try Self.json(StatsDocument(Self.snapshot(), Self.info()))
        XCTAssertEqual(
            Set(stats.keys),
            [
                "uptime_seconds", "started_at", "config", "stats_enabled", "totals", "routes", "unrouted", "upstreams",
                "listeners",
                "event_loops", "limits", "memory", "client_protocols",
            ]
        )
        XCTAssertEqual(stats["uptime_seconds"] as? Double, 12.5)
        XCTAssertEqual(stats["started_at"] as? String, "2027-01-15T08:00:00Z")
        XCTAssertEqual(stats.int("config.version"), 2)
        for key in ["hash", "file", "last_reload_error"] {
            XCTAssertTrue(stats.at("config.\(key)") is NSNull, "config.\(key) is null, not left out")
        }
        XCTAssertEqual(stats.at("routes.app.upstream") as? String, "app")
        XCTAssertNil((stats["totals"] as? [String: Any])?["upstream"], "totals name no upstream")
        XCTAssertNil(stats.at("routes.gone.upstream"), "a route a reload removed keeps its figures, without upstream")
        XCTAssertEqual(stats.int("routes.gone.connections.total"), 1)
        XCTAssertEqual(stats.int("routes.app.connections.active"), 2)
        XCTAssertEqual(stats.int("routes.app.handshake_failures.503"), 1)
        XCTAssertEqual(stats.int("routes.app.messages.upstream_to_client"), 4)
        XCTAssertEqual(stats.int("routes.app.closes.client.1000"), 2)
        XCTAssertEqual(stats.at("routes.app.closes.gateway") as? [String: Int], [:], "every side is listed")
        XCTAssertEqual(stats.at("routes.app.backpressure.paused_seconds.upstream_to_client") as? Double, 1.5)
        XCTAssertEqual(stats.int("routes.app.limit_hits.max_message"), 1)
        XCTAssertEqual(stats.int("routes.app.compression.connections"), 1)
        let sizes = try XCTUnwrap(stats.at("routes.app.message_bytes.client_to_upstream") as? [String: Any])
        XCTAssertEqual(sizes.int("count"), 2)
        XCTAssertEqual(sizes.int("sum"), 310)
        let buckets = try XCTUnwrap(sizes["buckets"] as? [[String: Any]])
        XCTAssertEqual(buckets.prefix(3).map { $0.int("le") }, [64, 256, 1024])
        XCTAssertEqual(buckets.prefix(3).map { $0.int("count") }, [1, 1, 2], "cumulative")
        XCTAssertEqual(stats.int("totals.connections.total"), 6, "every route summed")
        XCTAssertEqual(stats.int("unrouted.handshake_failures.404"), 2)
        XCTAssertEqual(stats.int("unrouted.limit_hits.max_pending_handshakes"), 3)

        XCTAssertEqual(stats.at("upstreams.app.protocol") as? String, "websocket")
        XCTAssertEqual(
            stats.at("upstreams.app.connections") as? [String: Int],
            ["127.0.0.1:9001": 2],
            "closed endpoints left out"
        )
        XCTAssertEqual(stats.int("upstreams.app.connect_failures.refused"), 1)
        XCTAssertTrue(stats.at("upstreams.app.pool") is NSNull)
        let seconds = try XCTUnwrap(stats.at("upstreams.app.connect_seconds") as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(seconds["sum"] as? Double), 0.002, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap((seconds["buckets"] as? [[String: Any]])?.first?["le"] as? Double), 0.0005, accuracy: 1e-12)
        let pool = try XCTUnwrap(stats.at("upstreams.h2.pool") as? [[String: Any]])
        XCTAssertEqual(pool.first?["endpoint"] as? String, "127.0.0.1:9443")
        XCTAssertEqual(pool.first?["healthy"] as? Bool, true)
        XCTAssertEqual(pool.first?.int("goaways"), 1)
        XCTAssertEqual(pool.first?.int("healthy_loops"), 2)

        let endpoints = try XCTUnwrap(stats.at("upstreams.app.endpoints") as? [[String: Any]])
        XCTAssertEqual(endpoints.map { $0["endpoint"] as? String }, ["127.0.0.1:9001", "127.0.0.1:9002"], "configuration order")
        XCTAssertEqual(
            Set(endpoints[0].keys),
            ["endpoint", "healthy", "healthy_loops", "loops", "failures_in_a_row", "sessions", "connections"]
        )
        XCTAssertEqual(endpoints.map { $0["healthy"] as? Bool }, [true, false], "healthy only when every loop says so")
        XCTAssertEqual(endpoints.map { $0.int("connections") }, [2, 0])
        XCTAssertEqual(endpoints.map { $0.int("sessions") }, [2, 0])
        XCTAssertEqual(endpoints[1].int("failures_in_a_row"), 3)
        XCTAssertEqual(stats.at("upstreams.h2.endpoints") as? [[String: Int]], [], "an upstream without figures yet")

        XCTAssertEqual(stats.at("listeners.main.address") as? String, "127.0.0.1:8080")
        XCTAssertNil(stats.at("listeners.main.tls_handshake_failures"), "plain listeners have no TLS figure")
        XCTAssertEqual(stats.int("listeners.tls.tls_handshake_failures"), 4)
        XCTAssertEqual((stats["event_loops"] as? [[String: Any]])?.map { $0.int("connections") }, [2, 0])
        XCTAssertEqual(stats.int("limits.max_connections_per_ip"), 5)
        XCTAssertEqual(stats.int("limits.open_files.hard"), 4096)
        XCTAssertEqual(stats.int("memory.zlib_bytes"), 40_000)
        XCTAssertEqual(stats.at("memory.pressure") as? String, "near")
        XCTAssertEqual(stats["stats_enabled"] as? Bool, true)
    }

    func testTheConnectionListShowsNullsAndBothSides() throws {
        let identity = SessionIdentity(
            id: 7,
            route: "app",
            clientAddress: try SocketAddress(ipAddress: "::1", port: 5555),
            upstreamEndpoint: "echo",
            path: "/chat",
            subprotocol: nil,
            compressed: false,
            started: .now()
        )
        var traffic = SessionTraffic()
        traffic.bytes = PerDirection(clientToUpstream: 5, upstreamToClient: 6)
        let connection = ConnectionInfo(
            identity: identity,
            age: .milliseconds(250),
            traffic: traffic,
            bufferedTowardClient: 10,
            bufferedTowardUpstream: 0,
            pausedTowardClient: true,
            pausedTowardUpstream: false
        )
        let list = try Self.json(ConnectionsDocument([connection], matching: 3))
        XCTAssertEqual(list.int("count"), 3)
        let listed = try XCTUnwrap((list["connections"] as? [[String: Any]])?.first)
        XCTAssertEqual(
            Set(listed.keys),
            [
                "id", "route", "client_address", "upstream_endpoint", "path", "subprotocol", "compressed", "client_protocol", "age_seconds",
                "messages",
                "bytes", "buffered_bytes", "paused",
            ]
        )
        XCTAssertEqual(listed.int("id"), 7)
        XCTAssertEqual(listed["client_address"] as? String, "[::1]:5555")
        XCTAssertTrue(listed["subprotocol"] is NSNull)
        XCTAssertEqual(listed["age_seconds"] as? Double, 0.25)
        XCTAssertEqual(listed.int("bytes.upstream_to_client"), 6)
        XCTAssertEqual(listed.int("buffered_bytes.toward_client"), 10)
        XCTAssertEqual(listed.at("paused.toward_client") as? Bool, true)
    }

    /// Keys are sorted, so the same figures always read the same.
    func testTheDocumentIsStable() {
        let first = StatsDocumentEncoder.encode(StatsDocument(Self.snapshot(), Self.info()))
        let second = StatsDocumentEncoder.encode(StatsDocument(Self.snapshot(), Self.info()))
        XCTAssertEqual(first, second)
        let text = String(decoding: first, as: UTF8.self)
        let keys = ["\"config\"", "\"event_loops\"", "\"limits\"", "\"listeners\"", "\"memory\"", "\"routes\""]
        let positions = keys.compactMap { text.range(of: $0)?.lowerBound }
        XCTAssertEqual(positions, positions.sorted())
        XCTAssertEqual(positions.count, keys.count)
    }
}
