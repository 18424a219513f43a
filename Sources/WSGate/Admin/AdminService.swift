import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An admin request, as much of it as the answers need.
struct AdminRequest: Sendable {
    var method: HTTPMethod
    var path: String
    var query: String
    var authorization: String?
    /// `Host`, `nil` when absent or repeated.
    var host: String?
    var origin: String?
    /// The ``AdminAccess/confirmationHeader`` value.
    var confirmation: String?

    init(_ head: HTTPRequestHead) {
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.method = head.method
        self.path = parts.first.map(String.init) ?? head.uri
        self.query = parts.count > 1 ? String(parts[1]) : ""
        self.authorization = head.headers.first(name: "Authorization")
        let hosts = head.headers["Host"]
        self.host = hosts.count == 1 ? hosts[0] : nil
        self.origin = head.headers.first(name: "Origin")
        self.confirmation = head.headers.first(name: AdminAccess.confirmationHeader)
    }
}

extension HTTPAnswer {
    /// A `/stats` document, as JSON.
    static func json(_ document: some Encodable) -> Self {
        Self(status: .ok, contentType: "application/json", body: StatsDocumentEncoder.encode(document))
    }
}

/// The admin endpoints:
/// - `GET /stats`: the figures as JSON (docs/stats.md);
/// - `GET /stats/connections?route=&sort=buffered|age|bytes|id&limit=N`: the live sessions;
/// - `GET /metrics`: Prometheus text exposition (swift-prometheus);
/// - `GET /healthz`: liveness; `GET /readyz`: 200 once the listeners are up and, when routes use
///   `websocket` upstreams, one of their endpoints accepts a TCP connection;
/// - `GET /`: the dashboard page, which polls `/stats`;
/// - `POST /reload`: re-reads the configuration file (``AdminReload``).
///
/// Every request must name the admin listener in `Host`, and `POST /reload` must not come from a
/// foreign page (``AdminAccess``). With `admin.token`, every request but the dashboard page needs
/// `Authorization: Bearer <token>` (401 otherwise). The page itself holds no figures; it reads the
/// token from its URL fragment (`/#token=...`, never sent to the server) and sends it with its
/// `/stats` requests.
struct AdminService: Sendable {
    let gateway: Gateway

    func respond(to request: AdminRequest) async -> HTTPAnswer {
        let configuration = self.gateway.activeConfiguration.configuration
        if let misdirected = AdminAccess.misdirection(request, admin: configuration.admin) { return misdirected }
        let known = ["/", "/stats", "/stats/connections", "/metrics", "/healthz", "/readyz", AdminReload.path]
        guard known.contains(request.path) else { return .text(.notFound, "not found") }
        let method: HTTPMethod = request.path == AdminReload.path ? .POST : .GET
        guard request.method == method else {
            return .text(.methodNotAllowed, "method not allowed (use \(method))", headers: [("Allow", "\(method)")])
        }
        if request.path != "/", let token = configuration.admin.token, !Self.authorized(request.authorization, token: token) {
            return .text(
                .unauthorized,
                "unauthorized: send 'Authorization: Bearer <admin.token>'",
                headers: [("WWW-Authenticate", "Bearer realm=\"wsgate\"")]
            )
        }
        if method == .POST, let refused = AdminAccess.crossSiteRefusal(request, admin: configuration.admin) { return refused }
        do {
            switch request.path {
            case "/":
                return HTTPAnswer(status: .ok, contentType: "text/html; charset=utf-8", body: Array(DashboardPage.html.utf8))
            case "/healthz":
                return .text(.ok, "ok")
            case AdminReload.path:
                return AdminReload.response(await AdminReload.reload(self.gateway))
            case "/readyz":
                return await self.readiness(configuration)
            case "/stats":
                return .json(try await self.stats(configuration))
            case "/stats/connections":
                return .json(try await self.connections(ConnectionListQuery(query: request.query)))
            default:
                return HTTPAnswer(
                    status: .ok,
                    contentType: "text/plain; version=0.0.4; charset=utf-8",
                    body: try await self.metrics(configuration)
                )
            }
        } catch let error as AdminRequestError {
            return .text(.badRequest, error.message)
        } catch {
            return .text(.serviceUnavailable, "unavailable: \(error)")
        }
    }

    /// Compares in time independent of where the first difference is.
    static func authorized(_ header: String?, token: String) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst("Bearer ".count).utf8)
        let expected = Array(token.utf8)
        var difference = given.count ^ expected.count
        for index in expected.indices {
            difference |= Int(expected[index] ^ (index < given.count ? given[index] : 0))
        }
        return difference == 0
    }

    // MARK: Answers

    private func snapshot() async throws -> GatewayStatsSnapshot {
        let services = self.gateway.services
        var snapshot = GatewayStatsSnapshot(
            loops: try await self.gateway.onEachEventLoop {
                let state = GatewayLoopState.current(for: services)
                return state.stats.snapshot(live: state.sessions.all.map { (route: $0.identity.route, traffic: $0.traffic) })
            }
        )
        // A pooled upstream's connections are the pools' TCP connections, not its sessions' streams.
        snapshot.pools = await self.gateway.upstreamPoolStats()
        snapshot.endpoints = await self.gateway.upstreamEndpointHealth()
        for (upstream, endpoints) in snapshot.pools {
            for endpoint in endpoints {
                snapshot.upstreams[upstream, default: UpstreamStats()].openConnections[endpoint.endpoint] =
                    endpoint.connectionsOpen
            }
        }
        return snapshot
    }

    private func stats(_ configuration: GatewayConfiguration) async throws -> StatsDocument {
        let snapshot = try await self.snapshot()
        let status = self.gateway.configurationStatus
        let files = OpenFileLimit.current
        let info = StatsDocument.GatewayInfo(
            uptime: .now() - self.gateway.startedAt,
            startedAt: self.gateway.startDate,
            configuration: StatsDocument.Configuration(
                version: status.version,
                hash: status.sha256,
                file: status.file,
                loadedAt: status.loadedAt.ISO8601Format(),
                lastReloadError: status.lastReloadError
            ),
            countsTraffic: configuration.admin.stats,
            routes: configuration.routes.map { ($0.name, $0.upstream) },
            upstreams: configuration.upstreams.mapValues { $0.protocol.rawValue },
            listeners: self.gateway.listenerAddresses.mapValues(\.hostAndPort),
            tlsHandshakeFailures: self.gateway.failedTLSHandshakes,
            admittedConnections: self.gateway.services.limiter.connections,
            pendingHandshakes: self.gateway.services.limiter.pendingHandshakes,
            openFiles: StatsDocument.OpenFiles(soft: files.soft, hard: files.hard),
            limits: configuration.limits,
            memory: self.gateway.services.memory.used,
            memoryPressure: self.gateway.services.memory.pressure
        )
        return StatsDocument(snapshot, info)
    }

    private func connections(_ query: ConnectionListQuery) async throws -> ConnectionsDocument {
        let now = NIODeadline.now()
        let services = self.gateway.services
        let all = try await self.gateway.onEachEventLoop {
            GatewayLoopState.current(for: services).sessions.all.map { $0.connectionInfo(now: now) }
        }.flatMap { $0 }
        let matching = all.filter { query.route == nil || $0.identity.route == query.route }.count
        return ConnectionsDocument(query.apply(to: all), matching: matching)
    }

    private func metrics(_ configuration: GatewayConfiguration) async throws -> [UInt8] {
        let snapshot = try await self.snapshot()
        let info = MetricsExporter.Info(
            uptimeSeconds: Double((.now() - self.gateway.startedAt).nanoseconds) / 1e9,
            routes: configuration.routes.map(\.name),
            upstreams: configuration.upstreams.keys.sorted(),
            tlsHandshakeFailures: self.gateway.failedTLSHandshakes
        )
        return self.gateway.metrics.scrape(snapshot, info)
    }

    /// Ready once listening and, when routes use `websocket` upstreams, one of their endpoints takes
    /// a TCP connection (tried in turn, 1 s each).
    private func readiness(_ configuration: GatewayConfiguration) async -> HTTPAnswer {
        guard !self.gateway.isDraining else { return .text(.serviceUnavailable, "not ready: the gateway is shutting down") }
        guard self.gateway.isListening else { return .text(.serviceUnavailable, "not ready: listeners are not up") }
        let used = Set(configuration.routes.map(\.upstream))
        let endpoints = configuration.upstreams.values
            .filter { used.contains($0.name) && $0.protocol == .websocket }
            .sorted { $0.name < $1.name }
            .flatMap(\.endpoints)
        guard !endpoints.isEmpty else { return .text(.ok, "ready") }
        for endpoint in endpoints {
            let bootstrap = ClientBootstrap(group: self.gateway.group).connectTimeout(.seconds(1))
            if let channel = try? await bootstrap.connect(host: endpoint.host, port: endpoint.port).get() {
                try? await channel.close()
                return .text(.ok, "ready")
            }
        }
        return .text(.serviceUnavailable, "not ready: no upstream endpoint is reachable")
    }
}
