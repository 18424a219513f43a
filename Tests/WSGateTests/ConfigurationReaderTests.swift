import XCTest

@testable import WSGate

/// The reader mechanism: reading a key marks it used, what is left is unknown, rules between keys
/// stay quiet when their input was already reported, and every issue of a file comes out at once.
final class ConfigurationReaderTests: XCTestCase {
    /// The issues `read` reports on `yaml`, as `file:line:column: path: message`.
    private static func issues(_ yaml: String, _ read: (ConfigurationNode) -> Void) -> [String] {
        do {
            try ConfigurationReader.read(yaml: yaml, file: "t.yaml") { root, _ in root.map(read) }
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    private static func parseIssues(_ yaml: String) -> [String] {
        do {
            _ = try GatewayConfiguration.parse(yaml: yaml, file: "t.yaml")
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    func testKeysNotReadAreUnknownAtEveryDepthWithTheClosestReadKey() {
        XCTAssertEqual(
            Self.issues(
                """
                outer:
                  inner:
                    limit: 1
                    limti: 2
                    other: 3
                """
            ) { root in
                _ = root.mapping { top in
                    top.value("outer")?.mapping { outer in
                        outer.value("inner")?.mapping { inner in
                            _ = inner.read("limit", Scalar.wholeNumber)
                            _ = inner.read("burst", Scalar.wholeNumber)
                        }
                    }
                }
            },
            [
                "t.yaml:4:5: outer.inner.limti: unknown key (did you mean 'limit'?)",
                "t.yaml:5:5: outer.inner.other: unknown key (valid keys: limit, burst)",
            ]
        )
    }

    func testUnknownKeyDeepInTheRealSchema() {
        XCTAssertEqual(
            Self.parseIssues(
                """
                listeners:
                  - address: 127.0.0.1:8443
                    tls:
                      self_signed: true
                      client_auth: {ca: ca.pem, requierd: false}
                """
            ),
            ["t.yaml:5:33: listeners[0].tls.client_auth.requierd: unknown key (did you mean 'required'?)"]
        )
    }

    func testAKeyReadTwiceIsReportedAsABugInTheReader() {
        XCTAssertEqual(
            Self.issues("a: 1\n") { root in
                _ = root.mapping { mapping in
                    _ = mapping.read("a", Scalar.wholeNumber)
                    _ = mapping.read("a", Scalar.wholeNumber)
                }
            },
            ["t.yaml:1:1: a: the key 'a' is read twice (a bug in the configuration reader)"]
        )
    }

    func testUnknownKeysComeFirstAmongIssuesAtOnePosition() {
        // The mapping starts where its first key does: the unknown key and the missing one share a position.
        XCTAssertEqual(
            Self.issues("- colour: red\n") { root in
                _ = root.sequence()?.first?.mapping { mapping in
                    _ = mapping.required("color")
                }
            },
            [
                "t.yaml:1:3: [0].colour: unknown key (did you mean 'color'?)",
                "t.yaml:1:3: [0].color: missing required key 'color'",
            ]
        )
    }

    func testEveryIssueOfEverySectionIsReportedAtOnceInFileOrder() {
        XCTAssertEqual(
            Self.parseIssues(
                """
                reload: {watch_interval: 5}
                listeners:
                  - address: 127.0.0.1
                admin: {max_connections: -1}
                upstreams:
                  chat: {endpoints: [127.0.0.1:9001], connect_timeout: 0s}
                routes:
                  - upstream: chat
                    limits: {max_frame: 0}
                defaults:
                  backpressure: {on_limit: drop}
                limits: {max_memory: 2TiB}
                log: {access: {format: xml}}
                shutdown: {grace: soon}
                """
            ),
            [
                "t.yaml:1:26: reload.watch_interval: duration '5' needs a unit (one of ms, s, m, h), e.g. '5s'",
                "t.yaml:3:14: listeners[0].address: address '127.0.0.1' is missing a port, e.g. '127.0.0.1:8080'",
                "t.yaml:4:26: admin.max_connections: '-1' is not a whole number",
                "t.yaml:6:56: upstreams.chat.connect_timeout: duration must be greater than 0",
                "t.yaml:9:25: routes[0].limits.max_frame: size must be greater than 0",
                "t.yaml:11:28: defaults.backpressure.on_limit: must be 'close' or 'pause', not 'drop'",
                "t.yaml:12:22: limits.max_memory: invalid size '2TiB': unknown unit 'TiB' "
                    + "(expected one of B, KB, MB, GB, KiB, MiB, GiB)",
                "t.yaml:13:24: log.access.format: must be 'json' or 'text', not 'xml'",
                "t.yaml:14:19: shutdown.grace: invalid duration 'soon' (expected e.g. 500ms, 10s, 2m or 1h)",
            ]
        )
    }

    /// The worst peer of a rule between keys: its input is a value already refused. Only the refused
    /// value is reported, not a rule broken by the default that stood in for it.
    func testARuleIsNotReportedWhenOneOfItsKeysWasAlreadyReported() {
        XCTAssertEqual(
            Self.parseIssues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                defaults:
                  backpressure: {high_water: lots, low_water: 2MiB}
                """
            ),
            ["t.yaml:3:30: defaults.backpressure.high_water: invalid size 'lots' (expected bytes, e.g. 65536, 64KiB or 1MiB)"]
        )
        XCTAssertEqual(
            Self.parseIssues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                upstreams: {chat: {endpoints: [127.0.0.1:9001]}}
                routes:
                  - match: {path_prefix: ws}
                    upstream: chat
                    rewrite_prefix: /
                """
            ),
            ["t.yaml:4:26: routes[0].match.path_prefix: path 'ws' must start with '/'"]
        )
    }

    /// The valid keys of each section are the keys its reader reads, in reading order: this pins the
    /// schema as the known-keys lists had it.
    func testValidKeysOfEverySection() {
        let yaml = """
            listeners:
              - {address: 127.0.0.1:8443, tls: {self_signed: true, client_auth: {ca: c.pem, zzzzzz: 1}, zzzzzz: 1}, zzzzzz: 1}
              - {address: 127.0.0.1:8444, tls: {certificates: [{cert: a.crt, key: a.key, zzzzzz: 1}]}}
            admin: {zzzzzz: 1}
            upstreams:
              a: {endpoints: [127.0.0.1:9001], tls: {zzzzzz: 1}, pool: {zzzzzz: 1}, protocol: websocket-h2, zzzzzz: 1}
            routes:
              - {upstream: a, match: {zzzzzz: 1}, zzzzzz: 1}
            defaults: {limits: {zzzzzz: 1}, backpressure: {zzzzzz: 1}, compression: {zzzzzz: 1}, zzzzzz: 1}
            limits: {zzzzzz: 1}
            log: {access: {zzzzzz: 1}, zzzzzz: 1}
            shutdown: {zzzzzz: 1}
            reload: {zzzzzz: 1}
            zzzzzz: 1
            """
        // Without the position, to read as a list of sections.
        let issues = Self.parseIssues(yaml).compactMap { $0.split(separator: " ", maxSplits: 1).last.map(String.init) }
        XCTAssertEqual(
            issues,
            [
                "listeners[0].tls.client_auth.zzzzzz: unknown key (valid keys: ca, required)",
                "listeners[0].tls.zzzzzz: unknown key (valid keys: certificates, self_signed, min_version, ciphers, client_auth, watch_interval)",
                "listeners[0].zzzzzz: unknown key (valid keys: name, address, tls, http2)",
                "listeners[1].tls.certificates[0].zzzzzz: unknown key (valid keys: cert, key, key_password_env)",
                "admin.zzzzzz: unknown key (valid keys: address, token, allow_remote, stats, max_connections, idle_timeout, tls)",
                "upstreams.a.tls.zzzzzz: unknown key (valid keys: enabled, verify, ca, server_name, cert, key, key_password_env)",
                "upstreams.a.pool.zzzzzz: unknown key (valid keys: connections_per_loop, max_connections_per_loop, "
                    + "max_streams_per_connection, idle_timeout, initial_stream_window)",
                "upstreams.a.zzzzzz: unknown key (valid keys: protocol, endpoints, connect_timeout, tls, balance, pool, "
                    + "http_pool, drop_underscore_headers)",
                "routes[0].match.zzzzzz: unknown key (valid keys: host, path, path_prefix, headers)",
                "routes[0].zzzzzz: unknown key (valid keys: name, match, upstream, rewrite_prefix, origins, limits, backpressure, "
                    + "compression, serves, auth)",
                "defaults.limits.zzzzzz: unknown key (valid keys: max_frame, max_message, handshake_timeout, idle_timeout, "
                    + "ping_interval, close_timeout, max_messages_per_second, max_header_bytes, max_headers, max_connections, "
                    + "max_request_body, response_timeout)",
                "defaults.backpressure.zzzzzz: unknown key (valid keys: high_water, low_water, max_buffered, max_stall, on_limit)",
                "defaults.compression.zzzzzz: unknown key (valid keys: enabled, level, server_max_window_bits, "
                    + "client_max_window_bits, mem_level, min_size, context_takeover)",
                "defaults.zzzzzz: unknown key (valid keys: limits, backpressure, compression)",
                "limits.zzzzzz: unknown key (valid keys: max_connections, max_connections_per_ip, max_pending_handshakes, "
                    + "max_memory, retry_after)",
                "log.access.zzzzzz: unknown key (valid keys: format, destination)",
                "log.zzzzzz: unknown key (valid keys: access)",
                "shutdown.zzzzzz: unknown key (valid keys: grace, timeout)",
                "reload.zzzzzz: unknown key (valid keys: watch_interval)",
                "zzzzzz: unknown key (valid keys: listeners, admin, upstreams, routes, defaults, limits, log, shutdown, reload)",
            ]
        )
    }

    func testKeyPathContainment() {
        let path = ConfigurationKeyPath.root.appending("match").appending("path")
        XCTAssertTrue(path.contains("match.path"))
        XCTAssertTrue(path.contains("match.path.x"))
        XCTAssertTrue(path.contains("match.path[0]"))
        XCTAssertFalse(path.contains("match.path_prefix"))
        XCTAssertFalse(path.contains("match"))
    }
}
