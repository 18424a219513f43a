import XCTest

@testable import WSGate

/// The `admin`, `limits` and `log` sections and `limits.max_connections` of routes.
final class OperationsConfigurationTests: XCTestCase {
    private static let listener = "listeners: [{address: 127.0.0.1:8080}]\n"

    private static func parse(_ yaml: String) throws -> GatewayConfiguration {
        try GatewayConfiguration.parse(yaml: Self.listener + yaml, file: "t.yaml")
    }

    private static func issues(_ yaml: String) -> [String] {
        do {
            _ = try Self.parse(yaml)
            return []
        } catch {
            return (error as? ConfigurationError)?.issues.map(\.description) ?? ["\(error)"]
        }
    }

    func testDefaults() throws {
        let configuration = try Self.parse("")
        XCTAssertEqual(
            configuration.admin,
            AdminConfiguration(
                address: SocketAddressSpec(host: "127.0.0.1", port: 9901),
                token: nil,
                allowRemote: false,
                stats: true,
                maxConnections: 64,
                idleTimeout: .seconds(30),
                tls: nil
            )
        )
        XCTAssertEqual(configuration.limits, GatewayLimits(maxConnections: 0, maxConnectionsPerIP: 0, retryAfter: .seconds(1)))
        XCTAssertNil(configuration.log.access)
        XCTAssertEqual(configuration.defaults.limits.maxConnections, 0)
    }

    func testAllKeys() throws {
        let configuration = try Self.parse(
            """
            admin: {address: 0.0.0.0:9902, token: abc, stats: false, max_connections: 4, idle_timeout: 2m, tls: {self_signed: true}}
            limits: {max_connections: 1000, max_connections_per_ip: 10, retry_after: 5s}
            log: {access: {format: text, destination: /var/log/wsgate/access.log}}
            upstreams: {echo: {protocol: echo}}
            defaults: {limits: {max_connections: 50}}
            routes:
              - {name: a, upstream: echo, limits: {max_connections: 5}}
              - {name: b, upstream: echo}
            """
        )
        XCTAssertEqual(configuration.admin.token, "abc")
        XCTAssertFalse(configuration.admin.stats)
        XCTAssertEqual(configuration.admin.maxConnections, 4)
        XCTAssertEqual(configuration.admin.idleTimeout, .seconds(120))
        XCTAssertEqual(configuration.admin.tls?.certificates, .selfSigned)
        XCTAssertEqual(
            configuration.limits,
            GatewayLimits(maxConnections: 1000, maxConnectionsPerIP: 10, retryAfter: .seconds(5))
        )
        XCTAssertEqual(
            configuration.log.access,
            AccessLogConfiguration(format: .text, destination: .file("/var/log/wsgate/access.log"))
        )
        XCTAssertEqual(configuration.routes.map(\.limits.maxConnections), [5, 50])
        let stderr = try Self.parse("log: {access: {destination: stderr}}")
        XCTAssertEqual(stderr.log.access, AccessLogConfiguration(format: .json, destination: .standardError))
    }

    func testNonLoopbackAdminNeedsATokenOrAllowRemote() throws {
        XCTAssertEqual(
            Self.issues("admin: {address: 0.0.0.0:9901}"),
            [
                "t.yaml:2:18: admin.address: admin address 0.0.0.0:9901 is not a loopback address: set admin.token "
                    + "(requests then need 'Authorization: Bearer <token>') or admin.allow_remote: true"
            ]
        )
        XCTAssertEqual(try Self.parse("admin: {address: 0.0.0.0:9901, allow_remote: true}").admin.allowRemote, true)
        XCTAssertEqual(try Self.parse("admin: {address: '[::1]:9901'}").admin.address.host, "::1")
        XCTAssertEqual(try Self.parse("admin: {address: localhost:9901}").admin.address.host, "localhost")
    }

    func testBadValuesNameTheirKeys() {
        XCTAssertEqual(
            Self.issues(
                """
                admin: {token: "has space", stats: maybe, allow_remtoe: true}
                limits: {max_connections: -1, retry_after: 0s}
                log: {access: {format: xml}}
                """
            ),
            [
                "t.yaml:2:16: admin.token: a token must not be empty or contain whitespace",
                "t.yaml:2:36: admin.stats: expected true or false, found 'maybe'",
                "t.yaml:2:43: admin.allow_remtoe: unknown key (did you mean 'allow_remote'?)",
                "t.yaml:3:27: limits.max_connections: '-1' is not a whole number",
                "t.yaml:3:44: limits.retry_after: duration must be greater than 0",
                "t.yaml:4:24: log.access.format: must be 'json' or 'text', not 'xml'",
            ]
        )
    }
}
