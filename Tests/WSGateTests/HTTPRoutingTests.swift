import NIOHTTP1
import XCTest

@testable import WSGate

/// Route kinds (`serves`, an upstream's protocol), the HTTP keys of the configuration, and the
/// handshake's branch for plain HTTP requests.
final class HTTPRoutingTests: XCTestCase {
    private static let yaml = """
        listeners: [{address: 127.0.0.1:8080}]
        upstreams:
          app: {endpoints: [127.0.0.1:9001], http_pool: {max_idle_per_loop: 4, idle_timeout: 5s, max_requests: 10}}
          static: {protocol: http, endpoints: [127.0.0.1:9002]}
          echo: {protocol: echo}
        routes:
          - {name: sockets, match: {path_prefix: /live}, upstream: app, serves: websocket}
          - {name: files, match: {path_prefix: /static}, upstream: static}
          - {name: echo, match: {path: /echo}, upstream: echo}
          - {name: app, upstream: app, limits: {max_request_body: 1MiB, response_timeout: 3s}}
        """

    private static func kind(_ table: RouteTable, _ path: String, _ kind: RequestKind) -> String? {
        table.match(host: "a", path: path, headers: [], kind: kind)?.route.name
    }

    func testRoutesServeTheirKindsAndTheirUpstreamsOnes() throws {
        let configuration = try GatewayConfiguration.parse(yaml: Self.yaml, file: "t.yaml")
        let table = RouteTable(configuration: configuration)
        XCTAssertEqual(Self.kind(table, "/live/x", .webSocket), "sockets")
        XCTAssertEqual(Self.kind(table, "/live/x", .http), "app", "a WebSocket-only route is passed over for HTTP")
        XCTAssertEqual(Self.kind(table, "/static/a.css", .http), "files")
        XCTAssertEqual(Self.kind(table, "/static/a.css", .webSocket), "app", "an http upstream carries no WebSocket")
        XCTAssertEqual(Self.kind(table, "/echo", .http), "app", "the echo serves no HTTP")
        XCTAssertEqual(Self.kind(table, "/echo", .webSocket), "echo")
        XCTAssertEqual(
            configuration.upstreams["app"]?.httpPool,
            HTTPPoolConfiguration(maxIdlePerLoop: 4, idleTimeout: .seconds(5), maxRequests: 10)
        )
        XCTAssertEqual(configuration.routes[3].limits.maxRequestBody, 1 << 20)
        XCTAssertEqual(configuration.routes[3].limits.responseTimeout, .seconds(3))
        XCTAssertEqual(configuration.routes[0].serves, .websocket)
        XCTAssertEqual(configuration.routes[1].serves, .both)
        XCTAssertTrue(
            table.description.contains("sockets  path_prefix=/live serves=websocket -> upstream app"),
            table.description
        )
    }

    func testHTTPKeysAreChecked() {
        let issues = Self.issues(
            """
            listeners: [{address: 127.0.0.1:8080}]
            upstreams:
              h2: {protocol: websocket-h2, endpoints: [127.0.0.1:9001], http_pool: {}}
              plain: {protocol: http}
              echo: {protocol: echo, http_pool: {max_idle_per_loop: 2}}
            routes:
              - {upstream: plain, serves: tcp}
              - {upstream: echo, serves: http}
            """
        )
        XCTAssertEqual(
            issues,
            [
                "t.yaml:3:61: upstreams.h2.http_pool: http_pool applies to websocket and http upstreams only",
                "t.yaml:4:10: upstreams.plain.endpoints: missing required key 'endpoints' (a http upstream needs at least one endpoint)",
                "t.yaml:5:26: upstreams.echo.http_pool: http_pool applies to websocket and http upstreams only",
                "t.yaml:7:31: routes[0].serves: must be 'websocket', 'http' or 'both', not 'tcp'",
                "t.yaml:8:30: routes[1].serves: serves http, but upstream 'echo' (echo) carries websocket only",
            ]
        )
    }

    private static func issues(_ yaml: String) -> [String] {
        do {
            _ = try GatewayConfiguration.parse(yaml: yaml, file: "t.yaml")
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    // MARK: The handshake's HTTP branch

    private func machine() throws -> ClientHandshakeStateMachine {
        ClientHandshakeStateMachine(
            routeTable: RouteTable(configuration: try GatewayConfiguration.parse(yaml: Self.yaml, file: "t.yaml")),
            maxHeaders: 10,
            retryAfter: .seconds(1),
            isTLS: false
        )
    }

    func testAPlainRequestOnAnHTTPRouteIsAdmittedThenProxied() throws {
        var machine = try self.machine()
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/static/a.css", headers: ["Host": "a"])
        guard case .admit(let route) = machine.requestHead(head) else { return XCTFail("not admitted") }
        XCTAssertEqual(route.name, "files")
        XCTAssertEqual(machine.routeName, "files")
        guard case .proxyHTTP(let proxied) = machine.admission(refusal: nil, memoryPressure: .normal) else {
            return XCTFail("not proxied")
        }
        XCTAssertEqual(proxied, head)
        guard case .none = machine.requestEnd() else { return XCTFail("the handshake went on") }
    }

    func testAPlainRequestIsRefusedByTheLimitsLikeAnUpgrade() throws {
        var machine = try self.machine()
        _ = machine.requestHead(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Host": "a"]))
        guard case .reject(let rejection, let limit) = machine.admission(refusal: nil, memoryPressure: .full) else {
            return XCTFail("not refused")
        }
        XCTAssertEqual(rejection.status, .serviceUnavailable)
        XCTAssertEqual(limit, LimitName.maxMemory)
    }

    func testAPlainRequestOnAWebSocketOnlyRouteIsStill426() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                listeners: [{address: 127.0.0.1:8080}]
                upstreams: {app: {endpoints: [127.0.0.1:9001]}}
                routes: [{upstream: app, serves: websocket}]
                """,
            file: "t.yaml"
        )
        var machine = ClientHandshakeStateMachine(
            routeTable: RouteTable(configuration: configuration),
            maxHeaders: 10,
            retryAfter: .seconds(1),
            isTLS: false
        )
        guard
            case .reject(let rejection, _) = machine.requestHead(
                HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Host": "a"])
            )
        else { return XCTFail("not refused") }
        XCTAssertEqual(rejection.status, .upgradeRequired)
    }
}
