import Foundation
import XCTest

@testable import WSGate

final class ConfigurationTests: XCTestCase {
    func testMinimalConfigurationGetsEveryDefault() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                listeners:
                  - address: 127.0.0.1:8080
                """,
            file: "minimal.yaml"
        )
        XCTAssertEqual(
            configuration,
            GatewayConfiguration(
                listeners: [
                    ListenerConfiguration(name: "listener_1", address: SocketAddressSpec(host: "127.0.0.1", port: 8080))
                ],
                admin: AdminConfiguration(address: SocketAddressSpec(host: "127.0.0.1", port: 9901)),
                upstreams: [:],
                routes: [],
                defaults: DefaultsConfiguration(
                    limits: Limits(
                        maxFrame: 67_108_864,
                        maxMessage: 67_108_864,
                        handshakeTimeout: .seconds(10),
                        idleTimeout: .seconds(120),
                        pingInterval: .seconds(30),
                        closeTimeout: .seconds(5)
                    )
                )
            )
        )
    }

    func testFullConfiguration() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                listeners:
                  - name: public
                    address: 0.0.0.0:8443
                  - address: "[::1]:8080"
                admin: {address: 127.0.0.1:9000, max_connections: 8, idle_timeout: 5s}
                upstreams:
                  chat:
                    protocol: websocket
                    endpoints: [127.0.0.1:9001, "[::1]:9002", backend.internal:80]
                    connect_timeout: 750ms
                    balance: round_robin
                    drop_underscore_headers: true
                  demo:
                    protocol: echo
                routes:
                  - name: chat
                    match:
                      host: "*.Example.com"
                      path_prefix: /ws
                      headers: {X-Tenant: blue, x-version: 2}
                    upstream: chat
                    rewrite_prefix: /
                    origins: [https://chat.example.com, "HTTP://Localhost:3000"]
                    limits: {max_message: 1MiB, idle_timeout: 0}
                  - match: {host: Demo.example.com, path: /echo}
                    upstream: demo
                defaults:
                  limits:
                    max_frame: 65536
                    max_message: 16MiB
                    handshake_timeout: 2s
                    idle_timeout: 5m
                    ping_interval: 0s
                    close_timeout: 1h
                """,
            file: "full.yaml"
        )
        let defaults = Limits(
            maxFrame: 65_536,
            maxMessage: 16 * 1_048_576,
            handshakeTimeout: .seconds(2),
            idleTimeout: .seconds(300),
            pingInterval: .zero,
            closeTimeout: .seconds(3600)
        )
        var chatLimits = defaults
        chatLimits.maxMessage = 1_048_576
        chatLimits.idleTimeout = .zero
        XCTAssertEqual(
            configuration,
            GatewayConfiguration(
                listeners: [
                    ListenerConfiguration(name: "public", address: SocketAddressSpec(host: "0.0.0.0", port: 8443)),
                    ListenerConfiguration(name: "listener_2", address: SocketAddressSpec(host: "::1", port: 8080)),
                ],
                admin: AdminConfiguration(
                    address: SocketAddressSpec(host: "127.0.0.1", port: 9000),
                    maxConnections: 8,
                    idleTimeout: .seconds(5)
                ),
                upstreams: [
                    "chat": UpstreamConfiguration(
                        name: "chat",
                        protocol: .websocket,
                        endpoints: [
                            SocketAddressSpec(host: "127.0.0.1", port: 9001),
                            SocketAddressSpec(host: "::1", port: 9002),
                            SocketAddressSpec(host: "backend.internal", port: 80),
                        ],
                        connectTimeout: .milliseconds(750),
                        dropUnderscoreHeaders: true
                    ),
                    "demo": UpstreamConfiguration(
                        name: "demo",
                        protocol: .echo,
                        endpoints: [],
                        connectTimeout: .seconds(5)
                    ),
                ],
                routes: [
                    RouteConfiguration(
                        name: "chat",
                        match: RouteMatch(
                            host: .wildcardSuffix("example.com"),
                            path: .prefix("/ws"),
                            headers: [
                                HeaderMatch(name: "x-tenant", value: "blue"),
                                HeaderMatch(name: "x-version", value: "2"),
                            ]
                        ),
                        upstream: "chat",
                        rewritePrefix: "/",
                        origins: ["https://chat.example.com", "http://localhost:3000"],
                        limits: chatLimits
                    ),
                    RouteConfiguration(
                        name: "route_2",
                        match: RouteMatch(host: .exact("demo.example.com"), path: .exact("/echo"), headers: []),
                        upstream: "demo",
                        rewritePrefix: nil,
                        origins: nil,
                        limits: defaults
                    ),
                ],
                defaults: DefaultsConfiguration(limits: defaults)
            )
        )
    }

    func testRouteLimitsOverrideOnlyTheirKeysOnTopOfDefaults() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                routes:
                  - upstream: echo
                    limits:
                      max_frame: 4KiB
                      ping_interval: 10s
                  - upstream: echo
                upstreams:
                  echo: {protocol: echo}
                defaults:
                  limits: {max_frame: 1MB, close_timeout: 1s}
                listeners: [{address: "localhost:0"}]
                """,
            file: "limits.yaml"
        )
        let defaults = Limits(maxFrame: 1_000_000, closeTimeout: .seconds(1))
        XCTAssertEqual(configuration.defaults.limits, defaults)
        XCTAssertEqual(configuration.routes.map(\.name), ["route_1", "route_2"])
        XCTAssertEqual(
            configuration.routes[0].limits,
            Limits(
                maxFrame: 4_096,
                maxMessage: 67_108_864,
                handshakeTimeout: .seconds(10),
                idleTimeout: .seconds(120),
                pingInterval: .seconds(10),
                closeTimeout: .seconds(1)
            )
        )
        XCTAssertEqual(configuration.routes[1].limits, defaults)
    }

    func testEchoUpstreamAcceptsAnEmptyEndpointList() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                listeners: [{address: "0.0.0.0:0"}, {address: "0.0.0.0:0"}]
                upstreams:
                  echo: {protocol: echo, endpoints: []}
                routes: []
                """,
            file: "echo.yaml"
        )
        XCTAssertEqual(configuration.upstreams["echo"], UpstreamConfiguration(name: "echo", protocol: .echo))
        XCTAssertEqual(configuration.listeners.map(\.name), ["listener_1", "listener_2"])
        XCTAssertEqual(configuration.routes, [])
    }

    func testHostPatternForms() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                listeners: [{address: 127.0.0.1:8080}]
                upstreams: {echo: {protocol: echo}}
                routes:
                  - {match: {host: "[::1]"}, upstream: echo}
                  - {match: {host: "::1"}, upstream: echo}
                  - {match: {host: "*.Example.COM"}, upstream: echo}
                  - {match: {host: Chat.Example.com}, upstream: echo}
                  - {match: {host: 10.0.0.1}, upstream: echo}
                """,
            file: "hosts.yaml"
        )
        XCTAssertEqual(
            configuration.routes.map(\.match.host),
            [
                .exact("::1"), .exact("::1"), .wildcardSuffix("example.com"), .exact("chat.example.com"),
                .exact("10.0.0.1"),
            ]
        )
        XCTAssertEqual(
            configuration.routes.map { $0.match.host?.description },
            ["::1", "::1", "*.example.com", "chat.example.com", "10.0.0.1"]
        )
    }

    func testAnchorsAndAliasesAreResolved() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                listeners: [{address: 127.0.0.1:8080}]
                upstreams:
                  a: {endpoints: &pool [127.0.0.1:9001, 127.0.0.1:9002]}
                  b: {endpoints: *pool, connect_timeout: 1s}
                """,
            file: "aliases.yaml"
        )
        XCTAssertEqual(configuration.upstreams["b"]?.endpoints, configuration.upstreams["a"]?.endpoints)
        XCTAssertEqual(
            configuration.upstreams["b"]?.endpoints.map(\.description),
            ["127.0.0.1:9001", "127.0.0.1:9002"]
        )
    }

    func testLoadReadsAFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-config-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("wsgate.yaml").path
        try "listeners:\n  - {name: main, address: '127.0.0.1:8080'}\n".write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )

        let configuration = try GatewayConfiguration.load(contentsOf: path)

        XCTAssertEqual(
            configuration.listeners,
            [ListenerConfiguration(name: "main", address: SocketAddressSpec(host: "127.0.0.1", port: 8080))]
        )
    }

    func testLoadNamesAFileThatCannotBeRead() {
        let path = "/nonexistent/wsgate.yaml"
        XCTAssertThrowsError(try GatewayConfiguration.load(contentsOf: path)) { error in
            XCTAssertEqual(
                (error as? ConfigurationError)?.issues,
                [
                    ConfigurationIssue(
                        file: path,
                        line: 0,
                        column: 0,
                        keyPath: "",
                        message: "cannot read the configuration file: no such file"
                    )
                ]
            )
            XCTAssertEqual("\(error)", "/nonexistent/wsgate.yaml: cannot read the configuration file: no such file")
        }
    }

    func testIssueDescriptionUsesCompilerFormat() {
        let issue = ConfigurationIssue(
            file: "config/wsgate.yaml",
            line: 14,
            column: 7,
            keyPath: "routes[1].match.pathprefix",
            message: "unknown key (did you mean 'path_prefix'?)"
        )
        XCTAssertEqual(
            issue.description,
            "config/wsgate.yaml:14:7: routes[1].match.pathprefix: unknown key (did you mean 'path_prefix'?)"
        )
        let error = ConfigurationError(issues: [
            issue, ConfigurationIssue(file: "c.yaml", line: 2, column: 1, keyPath: "", message: "invalid YAML: x"),
        ])
        XCTAssertEqual(
            error.description,
            """
            config/wsgate.yaml:14:7: routes[1].match.pathprefix: unknown key (did you mean 'path_prefix'?)
            c.yaml:2:1: invalid YAML: x
            """
        )
    }
}

final class BackpressureConfigurationTests: XCTestCase {
    func testDefaultsAndRouteOverrides() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                listeners: [{address: 127.0.0.1:8080}]
                upstreams: {echo: {protocol: echo}}
                defaults:
                  backpressure: {high_water: 512KiB, max_stall: 10s}
                  limits: {max_messages_per_second: 50, max_header_bytes: 8KiB, max_headers: 40}
                routes:
                  - match: {path: /a}
                    upstream: echo
                    backpressure: {on_limit: pause, low_water: 64KiB}
                """,
            file: "t.yaml"
        )
        let route = try XCTUnwrap(configuration.routes.first)
        XCTAssertEqual(
            route.backpressure,
            BackpressureConfiguration(highWater: 512 * 1024, lowWater: 64 * 1024, maxStall: .seconds(10), onLimit: .pause)
        )
        XCTAssertEqual(configuration.defaults.backpressure.onLimit, .close)
        XCTAssertEqual(route.limits.maxMessagesPerSecond, 50)
        XCTAssertEqual(configuration.defaults.limits.maxHeaderBytes, 8 * 1024)
        XCTAssertEqual(configuration.defaults.limits.maxHeaders, 40)
    }

    func testInvalidBackpressureIsReportedWithLines() {
        XCTAssertThrowsError(
            try GatewayConfiguration.parse(
                yaml: """
                    listeners: [{address: 127.0.0.1:8080}]
                    defaults:
                      backpressure: {high_water: 1MiB, low_water: 2MiB, on_limit: drop}
                      limits: {max_messages_per_second: lots}
                    """,
                file: "t.yaml"
            )
        ) { error in
            let messages = (error as? ConfigurationError)?.issues.map(\.description) ?? []
            XCTAssertEqual(
                messages,
                [
                    "t.yaml:3:17: defaults.backpressure: low_water must be below high_water (1048576 bytes)",
                    "t.yaml:3:63: defaults.backpressure.on_limit: must be 'close' or 'pause', not 'drop'",
                    "t.yaml:4:37: defaults.limits.max_messages_per_second: 'lots' is not a whole number",
                ]
            )
        }
    }
}
