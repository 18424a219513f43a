import XCTest

@testable import WSGate

/// `upstreams.<name>.pool` and `balance`: defaults, every key, and errors with file, line and key path.
final class PoolConfigurationTests: XCTestCase {
    private static let listener = """
        listeners:
          - address: 127.0.0.1:8080
        """

    func testDefaults() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: Self.listener + """

                upstreams:
                  chat:
                    protocol: websocket-h2
                    endpoints: [127.0.0.1:9001]
                """,
            file: "t.yaml"
        )
        let chat = try XCTUnwrap(configuration.upstreams["chat"])
        XCTAssertEqual(chat.protocol, .websocketH2)
        XCTAssertEqual(chat.balance, .roundRobin)
        XCTAssertEqual(chat.pool, HTTP2PoolConfiguration())
        XCTAssertEqual(chat.pool.connectionsPerLoop, 1)
        XCTAssertEqual(chat.pool.maxConnectionsPerLoop, 4)
        XCTAssertEqual(chat.pool.maxStreamsPerConnection, 100)
        XCTAssertEqual(chat.pool.idleTimeout, .seconds(60))
        XCTAssertEqual(chat.pool.initialStreamWindow, 256 * 1024)
    }

    func testEveryKey() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: Self.listener + """

                upstreams:
                  chat:
                    protocol: websocket-h2
                    endpoints: [127.0.0.1:9001, 127.0.0.1:9002]
                    balance: least_connections
                    tls: {verify: false}
                    pool:
                      connections_per_loop: 2
                      max_connections_per_loop: 8
                      max_streams_per_connection: 50
                      idle_timeout: 30s
                      initial_stream_window: 1MiB
                """,
            file: "t.yaml"
        )
        let chat = try XCTUnwrap(configuration.upstreams["chat"])
        XCTAssertEqual(chat.balance, .leastConnections)
        XCTAssertEqual(
            chat.pool,
            HTTP2PoolConfiguration(
                connectionsPerLoop: 2,
                maxConnectionsPerLoop: 8,
                maxStreamsPerConnection: 50,
                idleTimeout: .seconds(30),
                initialStreamWindow: 1024 * 1024
            )
        )
        XCTAssertEqual(chat.tls?.verify, false)
    }

    func testErrors() {
        XCTAssertEqual(
            Self.issues(
                Self.listener + """

                    upstreams:
                      a:
                        protocol: websocket-h2
                        endpoints: [127.0.0.1:9001]
                        pool:
                          connections_per_loop: 1
                          max_connections_per_loop: 0
                          max_streams_per_connection: -1
                          idle_timeout: 0
                          initial_stream_window: 1KiB
                          max_idle: 3
                      b:
                        protocol: websocket-h2
                        endpoints: [127.0.0.1:9001]
                        pool: {connections_per_loop: 5, max_connections_per_loop: 2}
                      c:
                        protocol: websocket
                        endpoints: [127.0.0.1:9001]
                        pool: {}
                    """
            ),
            [
                "t.yaml:9:33: upstreams.a.pool.max_connections_per_loop: expected a whole number from 1 to 1024, found '0'",
                "t.yaml:10:35: upstreams.a.pool.max_streams_per_connection: expected a whole number from 1 to 2147483647, found '-1'",
                "t.yaml:11:21: upstreams.a.pool.idle_timeout: duration must be greater than 0",
                "t.yaml:12:30: upstreams.a.pool.initial_stream_window: expected a size from 16KiB to 2147483647 bytes (2^31-1)",
                "t.yaml:13:7: upstreams.a.pool.max_idle: unknown key (valid keys: connections_per_loop, "
                    + "max_connections_per_loop, max_streams_per_connection, idle_timeout, initial_stream_window)",
                "t.yaml:17:34: upstreams.b.pool.connections_per_loop: connections_per_loop (5) must not exceed max_connections_per_loop (2)",
                "t.yaml:21:5: upstreams.c.pool: pool applies to websocket-h2 upstreams only",
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
}
