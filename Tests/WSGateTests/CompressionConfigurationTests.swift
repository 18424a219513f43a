import XCTest

@testable import WSGate

/// `defaults.compression` and `routes[].compression` in YAML.
final class CompressionConfigurationTests: XCTestCase {
    private static let head = """
        listeners:
          - address: 127.0.0.1:8080
        upstreams:
          app: {endpoints: [127.0.0.1:9001]}

        """

    func testDefaultsAndRouteOverrides() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: Self.head + """
                routes:
                  - name: a
                    upstream: app
                  - name: b
                    upstream: app
                    compression: {context_takeover: false, level: 1}
                  - name: c
                    upstream: app
                    compression: {enabled: false}
                defaults:
                  compression:
                    level: 9
                    server_max_window_bits: 10
                    client_max_window_bits: 11
                    mem_level: 4
                    min_size: 1KiB
                """,
            file: "c.yaml"
        )
        let defaults = CompressionConfiguration(
            enabled: true,
            level: 9,
            serverMaxWindowBits: 10,
            clientMaxWindowBits: 11,
            memoryLevel: 4,
            minSize: 1024,
            contextTakeover: true
        )
        XCTAssertEqual(configuration.defaults.compression, defaults)
        XCTAssertEqual(configuration.routes[0].compression, defaults)
        var b = defaults
        b.contextTakeover = false
        b.level = 1
        XCTAssertEqual(configuration.routes[1].compression, b)
        var c = defaults
        c.enabled = false
        XCTAssertEqual(configuration.routes[2].compression, c)
    }

    func testBuiltInDefaults() throws {
        let configuration = try GatewayConfiguration.parse(yaml: Self.head, file: "c.yaml")
        XCTAssertEqual(configuration.defaults.compression, CompressionConfiguration())
        XCTAssertEqual(
            CompressionConfiguration(),
            CompressionConfiguration(
                enabled: true,
                level: 6,
                serverMaxWindowBits: 15,
                clientMaxWindowBits: 15,
                memoryLevel: 8,
                minSize: 64,
                contextTakeover: true
            )
        )
    }

    func testBadValuesAreReportedWithLineAndKey() {
        let yaml =
            Self.head + """
                defaults:
                  compression:
                    enabled: yes
                    level: 0
                    server_max_window_bits: 8
                    mem_level: 10
                    min_size: lots
                    contex_takeover: false
                """
        XCTAssertThrowsError(try GatewayConfiguration.parse(yaml: yaml, file: "c.yaml")) { error in
            let issues = (error as? ConfigurationError)?.issues.map { "\($0.line) \($0.keyPath): \($0.message)" } ?? []
            XCTAssertEqual(issues.count, 6, "\(issues)")
            let text = issues.joined(separator: "\n")
            XCTAssertTrue(
                text.contains("defaults.compression.contex_takeover: unknown key (did you mean 'context_takeover'?)"),
                text
            )
            XCTAssertTrue(text.contains("7 defaults.compression.enabled: expected true or false"), text)
            XCTAssertTrue(text.contains("8 defaults.compression.level: expected an integer from 1 to 9, found '0'"), text)
            XCTAssertTrue(text.contains("9 defaults.compression.server_max_window_bits: expected an integer from 9 to 15"), text)
            XCTAssertTrue(text.contains("10 defaults.compression.mem_level"), text)
            XCTAssertTrue(text.contains("11 defaults.compression.min_size: invalid size"), text)
        }
    }
}
