import XCTest

@testable import WSGate

/// Every way the decoder rejects a file: each issue's line, column, key path and message.
final class ConfigurationErrorTests: XCTestCase {
    func testReportsAllIssuesOfAFileAtOnce() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners:
                  - address: 127.0.0.1:8080
                upstreams:
                  chat:
                    endpoints: [127.0.0.1:9001]
                routes:
                  - match:
                      pathprefix: /ws
                    upstream: caht
                    limits:
                      max_frame: 12XB
                """
            ),
            [
                "t.yaml:8:7: routes[0].match.pathprefix: unknown key (did you mean 'path_prefix'?)",
                "t.yaml:9:15: routes[0].upstream: unknown upstream 'caht' (did you mean 'chat'?)",
                "t.yaml:11:18: routes[0].limits.max_frame: invalid size '12XB': unknown unit 'XB' "
                    + "(expected one of B, KB, MB, GB, KiB, MiB, GiB)",
            ]
        )
    }

    func testThrownErrorCarriesStructuredIssues() {
        XCTAssertThrowsError(try GatewayConfiguration.parse(yaml: "listeners: []", file: "config/wsgate.yaml")) {
            error in
            XCTAssertEqual(
                (error as? ConfigurationError)?.issues,
                [
                    ConfigurationIssue(
                        file: "config/wsgate.yaml",
                        line: 1,
                        column: 12,
                        keyPath: "listeners",
                        message: "at least one listener is required"
                    )
                ]
            )
        }
    }

    // MARK: - Document

    func testEmptyDocument() {
        let expected = ["t.yaml:1:1: listeners: the configuration is empty; at least one listener is required"]
        XCTAssertEqual(Self.issues(""), expected)
        XCTAssertEqual(Self.issues("# all commented out\n"), expected)
    }

    func testRootMustBeAMapping() {
        XCTAssertEqual(Self.issues("- listeners\n"), ["t.yaml:1:1: expected a mapping, found a list"])
    }

    func testUnknownTopLevelKeys() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners:
                  - address: 127.0.0.1:8080
                upstream: {}
                compression: {enabled: true}
                """
            ),
            [
                "t.yaml:3:1: upstream: unknown key (did you mean 'upstreams'?)",
                "t.yaml:4:1: compression: unknown key (valid keys: listeners, admin, upstreams, routes, defaults, limits, log, shutdown, reload)",
            ]
        )
    }

    func testNonStringAndMergeKeys() {
        XCTAssertEqual(
            Self.issues(
                """
                ~: 1
                listeners:
                  - &first {address: 127.0.0.1:8080}
                  - <<: *first
                    name: second
                """
            ),
            [
                "t.yaml:1:1: keys must be strings, found an empty value",
                "t.yaml:4:5: listeners[1].<<: YAML merge keys ('<<') are not supported; write the keys out",
                "t.yaml:4:5: listeners[1].address: missing required key 'address'",
            ]
        )
    }

    // MARK: - YAML syntax

    func testDuplicateKey() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners:
                  - address: 127.0.0.1:8080
                    address: 127.0.0.1:8081
                """
            ),
            ["t.yaml:2:5: duplicate key 'address' in one mapping"]
        )
    }

    func testSyntaxErrors() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners:
                  - address: 127.0.0.1:8080
                 admin: {}
                """
            ),
            ["t.yaml:3:2: invalid YAML: did not find expected key (while parsing a block mapping at line 1, column 1)"]
        )
        XCTAssertEqual(
            Self.issues("listeners: [{address: 127.0.0.1:8080}\n"),
            [
                "t.yaml:2:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 12)"
            ]
        )
        XCTAssertEqual(
            Self.issues("listeners:\n\t- address: 127.0.0.1:8080\n"),
            [
                "t.yaml:2:1: invalid YAML: found character that cannot start any token (while scanning for the next token at line 2, column 1)"
            ]
        )
        XCTAssertEqual(
            Self.issues("listeners:\n  - address: \u{1}\n"),
            ["t.yaml:2:14: invalid YAML: control characters are not allowed"]
        )
        XCTAssertEqual(Self.issues("listeners: *nowhere\n"), ["t.yaml:1:12: invalid YAML: found undefined alias"])
    }

    // MARK: - Listeners and admin

    func testListenersMissing() {
        XCTAssertEqual(
            Self.issues("admin: {address: 127.0.0.1:9000}\n"),
            ["t.yaml:1:1: listeners: missing required key 'listeners'"]
        )
    }

    func testListenersMustBeANonEmptyList() {
        XCTAssertEqual(
            Self.issues("listeners: 127.0.0.1:8080\n"),
            ["t.yaml:1:12: listeners: expected a list, found '127.0.0.1:8080'"]
        )
        XCTAssertEqual(Self.issues("listeners: []\n"), ["t.yaml:1:12: listeners: at least one listener is required"])
    }

    func testListenerEntries() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners:
                  - 127.0.0.1:8080
                  - name: public
                    tls: {certificates: []}
                    address: 127.0.0.1:8443
                  - name: public
                    address: 127.0.0.1:8443
                  - name: my listener
                    adress: 127.0.0.1:8444
                  - address: 127.0.0.1:99999
                  - name: {a: b}
                    address: 127.0.0.1:8445
                """
            ),
            [
                "t.yaml:2:5: listeners[0]: expected a mapping, found '127.0.0.1:8080'",
                "t.yaml:4:25: listeners[1].tls.certificates: at least one certificate is required",
                "t.yaml:6:11: listeners[2].name: listener name 'public' is already used by listeners[1] (line 3)",
                "t.yaml:7:14: listeners[2].address: address 127.0.0.1:8443 is already used by listener 'public' "
                    + "(listeners[1].address, line 5)",
                "t.yaml:8:5: listeners[3].address: missing required key 'address'",
                "t.yaml:8:11: listeners[3].name: a name must not be empty or contain whitespace",
                "t.yaml:9:5: listeners[3].adress: unknown key (did you mean 'address'?)",
                "t.yaml:10:14: listeners[4].address: address '127.0.0.1:99999' has an invalid port '99999' (expected 0...65535)",
                "t.yaml:11:11: listeners[5].name: expected a string, found a mapping",
            ]
        )
    }

    func testListenerOnTheDefaultAdminAddress() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners:
                  - address: 127.0.0.1:9901
                """
            ),
            [
                "t.yaml:2:14: listeners[0].address: address 127.0.0.1:9901 is already used by the default admin.address; "
                    + "move the listener or set admin.address"
            ]
        )
    }

    func testListenerOnTheAdminAddress() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners:
                  - address: 127.0.0.1:9901
                  - address: LOCALHOST:9000
                admin: {address: localhost:9000}
                """
            ),
            ["t.yaml:3:14: listeners[1].address: address localhost:9000 is already used by admin.address"]
        )
    }

    func testAdminErrors() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                admin: {address: nope, port: 1}
                """
            ),
            [
                "t.yaml:2:18: admin.address: address 'nope' is missing a port, e.g. '127.0.0.1:8080'",
                "t.yaml:2:24: admin.port: unknown key (valid keys: address, token, allow_remote, stats, max_connections, "
                    + "idle_timeout, tls)",
            ]
        )
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                admin:
                  max_connections: 0
                  idle_timeout: 0s
                  tls: {self_signed: true, certs: []}
                """
            ),
            [
                "t.yaml:3:20: admin.max_connections: must be greater than 0",
                "t.yaml:4:17: admin.idle_timeout: duration must be greater than 0",
                "t.yaml:5:28: admin.tls.certs: unknown key (valid keys: certificates, self_signed, min_version, ciphers, "
                    + "client_auth, watch_interval)",
            ]
        )
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                admin: 127.0.0.1:9000
                """
            ),
            ["t.yaml:2:8: admin: expected a mapping, found '127.0.0.1:9000'"]
        )
    }

    // MARK: - Upstreams

    func testUpstreamErrors() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners:
                  - address: 127.0.0.1:8080
                upstreams:
                  h2:
                    protocol: websocket-h2
                    endpoints: []
                  typo:
                    protocol: ech
                  missing: {}
                  empty:
                    endpoints: []
                  echo:
                    protocol: echo
                    endpoints: [127.0.0.1:9001]
                  bad:
                    endpoints: [127.0.0.1, "127.0.0.1:0", 127.0.0.1:9001]
                    tls: {enabled: false}
                    balance: least_connections
                    connect_timeout: 0s
                  bad balance:
                    endpoints: 127.0.0.1:9001
                    balance: random
                    connect_timeout: 5
                    pool: {connections_per_loop: 1}
                  scalar: 1
                """
            ),
            [
                "t.yaml:6:16: upstreams.h2.endpoints: a websocket-h2 upstream needs at least one endpoint",
                "t.yaml:8:15: upstreams.typo.protocol: unknown protocol 'ech' (did you mean 'echo'?)",
                "t.yaml:9:12: upstreams.missing.endpoints: missing required key 'endpoints' "
                    + "(a websocket upstream needs at least one endpoint)",
                "t.yaml:11:16: upstreams.empty.endpoints: a websocket upstream needs at least one endpoint",
                "t.yaml:14:16: upstreams.echo.endpoints: an echo upstream takes no endpoints",
                "t.yaml:16:17: upstreams.bad.endpoints[0]: address '127.0.0.1' is missing a port, e.g. '127.0.0.1:8080'",
                "t.yaml:16:28: upstreams.bad.endpoints[1]: an endpoint needs a port other than 0",
                "t.yaml:19:22: upstreams.bad.connect_timeout: duration must be greater than 0",
                "t.yaml:20:3: upstreams.bad balance: a name must not be empty or contain whitespace",
                "t.yaml:21:16: upstreams.bad balance.endpoints: expected a list, found '127.0.0.1:9001'",
                "t.yaml:22:14: upstreams.bad balance.balance: unknown balance 'random' "
                    + "(expected one of: round_robin, least_connections)",
                "t.yaml:23:22: upstreams.bad balance.connect_timeout: duration '5' needs a unit (one of ms, s, m, h), e.g. '5s'",
                "t.yaml:24:5: upstreams.bad balance.pool: pool applies to websocket-h2 upstreams only",
                "t.yaml:25:11: upstreams.scalar: expected a mapping, found '1'",
            ]
        )
    }

    func testUpstreamsMustBeAMapping() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                upstreams: [chat]
                """
            ),
            ["t.yaml:2:12: upstreams: expected a mapping, found a list"]
        )
    }

    // MARK: - Routes

    func testRouteErrors() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners:
                  - address: 127.0.0.1:8080
                upstreams:
                  chat: {endpoints: [127.0.0.1:9001]}
                  chat2: {endpoints: [127.0.0.1:9002]}
                routes:
                  - name: a
                    upstream: chat
                  - name: a
                    upstream: chat
                  - upstream: chat
                  - name: route_3
                    upstream: chat
                  - match: {path: /x}
                  - upstream: nope
                  - upstream: chat3
                  - chat
                """
            ),
            [
                "t.yaml:9:11: routes[1].name: route name 'a' is already used by routes[0] (line 7)",
                "t.yaml:12:11: routes[3].name: route name 'route_3' is already used by routes[2] (line 11)",
                "t.yaml:14:5: routes[4].upstream: missing required key 'upstream'",
                "t.yaml:15:15: routes[5].upstream: unknown upstream 'nope' (defined: chat, chat2)",
                "t.yaml:16:15: routes[6].upstream: unknown upstream 'chat3' (did you mean 'chat'?)",
                "t.yaml:17:5: routes[7]: expected a mapping, found 'chat'",
            ]
        )
    }

    func testGeneratedRouteNameCollidesWithAnExplicitOne() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                upstreams: {echo: {protocol: echo}}
                routes:
                  - name: route_2
                    upstream: echo
                  - upstream: echo
                """
            ),
            [
                "t.yaml:6:5: routes[1].name: generated name 'route_2' is already used by routes[0] (line 4); "
                    + "give this route a name"
            ]
        )
    }

    func testUnknownUpstreamWhenNoneAreDefined() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                routes: [{upstream: chat}]
                """
            ),
            ["t.yaml:2:21: routes[0].upstream: unknown upstream 'chat' (no upstreams are defined)"]
        )
    }

    func testRouteNamingABrokenUpstreamIsNotReportedTwice() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                upstreams:
                  chat: {protocol: bogus}
                routes: [{upstream: chat}]
                """
            ),
            [
                "t.yaml:3:20: upstreams.chat.protocol: unknown protocol 'bogus' (expected one of: websocket, websocket-h2, echo, http)"
            ]
        )
    }

    func testRoutesMustBeAList() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                routes: {chat: {upstream: chat}}
                """
            ),
            ["t.yaml:2:9: routes: expected a list, found a mapping"]
        )
    }

    func testMatchErrors() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                upstreams: {chat: {endpoints: [127.0.0.1:9001]}}
                routes:
                  - match: {path: /a, path_prefix: /b}
                    upstream: chat
                  - match: {path: ws}
                    upstream: chat
                  - match: {path_prefix: "/ws?x=1"}
                    upstream: chat
                  - match: {host: "example.com:8080"}
                    upstream: chat
                  - match: {host: "*"}
                    upstream: chat
                  - match: {host: "a.*.com"}
                    upstream: chat
                  - match: {headers: [x-a]}
                    upstream: chat
                  - match: {headers: {"x a": "1", x-b: {c: d}, x-c: ~}}
                    upstream: chat
                  - match: /ws
                    upstream: chat
                  - match: {hots: a.com, pathprefix: /ws, method: GET}
                    upstream: chat
                """
            ),
            [
                "t.yaml:4:23: routes[0].match.path_prefix: 'path' and 'path_prefix' cannot both be set; use one",
                "t.yaml:6:19: routes[1].match.path: path 'ws' must start with '/'",
                "t.yaml:8:26: routes[2].match.path_prefix: path '/ws?x=1' must not contain a query; paths are matched without it",
                "t.yaml:10:19: routes[3].match.host: host 'example.com:8080' must not include a port; hosts are matched without it",
                "t.yaml:12:19: routes[4].match.host: host pattern '*' may only use '*' as a leading '*.' label",
                "t.yaml:14:19: routes[5].match.host: host pattern 'a.*.com' may only use '*' as a leading '*.' label",
                "t.yaml:16:22: routes[6].match.headers: expected a mapping, found a list",
                "t.yaml:18:23: routes[7].match.headers.x a: 'x a' is not a valid header name",
                "t.yaml:18:40: routes[7].match.headers.x-b: expected a string, found a mapping",
                "t.yaml:18:53: routes[7].match.headers.x-c: expected a string, found an empty value",
                "t.yaml:20:12: routes[8].match: expected a mapping, found '/ws'",
                "t.yaml:22:13: routes[9].match.hots: unknown key (did you mean 'host'?)",
                "t.yaml:22:26: routes[9].match.pathprefix: unknown key (did you mean 'path_prefix'?)",
                "t.yaml:22:43: routes[9].match.method: unknown key (valid keys: host, path, path_prefix, headers)",
            ]
        )
    }

    func testRewriteOriginsAndLimitsErrors() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                upstreams: {chat: {endpoints: [127.0.0.1:9001]}}
                routes:
                  - match: {path: /ws}
                    upstream: chat
                    rewrite_prefix: /api
                  - match: {path_prefix: /ws}
                    upstream: chat
                    rewrite_prefix: api
                  - upstream: chat
                    origins: https://a.example.com
                  - upstream: chat
                    origins: ["", {a: b}, https://a.example.com/, a.example.com]
                  - upstream: chat
                    limits:
                      max_frame: 0
                      max_message: big
                      handshake_timeout: 0
                      close_timeout: 0ms
                      idle_timeout: 0
                      ping_interval: 0
                      maxframe: 1
                  - upstream: chat
                    limits: 1MiB
                  - upstream: chat
                    rewrite_prefix: /
                """
            ),
            [
                "t.yaml:6:5: routes[0].rewrite_prefix: rewrite_prefix needs match.path_prefix (it replaces the matched prefix)",
                "t.yaml:9:21: routes[1].rewrite_prefix: rewrite_prefix 'api' must start with '/'",
                "t.yaml:11:14: routes[2].origins: expected a list, found 'https://a.example.com'",
                "t.yaml:13:15: routes[3].origins[0]: origin '' must be scheme://host[:port], "
                    + "e.g. 'https://chat.example.com'",
                "t.yaml:13:19: routes[3].origins[1]: expected a string, found a mapping",
                "t.yaml:13:27: routes[3].origins[2]: origin 'https://a.example.com/' must be scheme://host[:port], "
                    + "e.g. 'https://chat.example.com'",
                "t.yaml:13:51: routes[3].origins[3]: origin 'a.example.com' must be scheme://host[:port], "
                    + "e.g. 'https://chat.example.com'",
                "t.yaml:16:18: routes[4].limits.max_frame: size must be greater than 0",
                "t.yaml:17:20: routes[4].limits.max_message: invalid size 'big' (expected bytes, e.g. 65536, 64KiB or 1MiB)",
                "t.yaml:18:26: routes[4].limits.handshake_timeout: duration must be greater than 0",
                "t.yaml:19:22: routes[4].limits.close_timeout: duration must be greater than 0",
                "t.yaml:22:7: routes[4].limits.maxframe: unknown key (did you mean 'max_frame'?)",
                "t.yaml:24:13: routes[5].limits: expected a mapping, found '1MiB'",
                "t.yaml:26:5: routes[6].rewrite_prefix: rewrite_prefix needs match.path_prefix (it replaces the matched prefix)",
            ]
        )
    }

    // MARK: - Defaults

    func testDefaultsErrors() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                defaults:
                  compresion: {enabled: true}
                  limits:
                    idle_timeout: 2 minutes
                    ping_interval: -1s
                """
            ),
            [
                "t.yaml:3:3: defaults.compresion: unknown key (did you mean 'compression'?)",
                "t.yaml:5:19: defaults.limits.idle_timeout: invalid duration '2 minutes': unknown unit 'minutes' "
                    + "(expected one of ms, s, m, h)",
                "t.yaml:6:20: defaults.limits.ping_interval: invalid duration '-1s' (expected e.g. 500ms, 10s, 2m or 1h)",
            ]
        )
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                defaults: []
                """
            ),
            ["t.yaml:2:11: defaults: expected a mapping, found a list"]
        )
    }

    /// Issue 11, finding 10: `max_frame` near `Int.max` passed and overflowed the message-length sum.
    func testSizesAboveOneTebibyteAreRefused() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners: [{address: 127.0.0.1:8080}]
                defaults:
                  limits:
                    max_frame: 9223372036854775807
                    max_message: 2000GiB
                """
            ),
            [
                "t.yaml:4:16: defaults.limits.max_frame: size '9223372036854775807' is too large (at most 1024GiB)",
                "t.yaml:5:18: defaults.limits.max_message: size '2000GiB' is too large (at most 1024GiB)",
            ]
        )
    }

    /// The issue descriptions for `yaml` parsed as `t.yaml`, or a marker when it parses.
    private static func issues(_ yaml: String) -> [String] {
        do {
            _ = try GatewayConfiguration.parse(yaml: yaml, file: "t.yaml")
            return ["parsed without issues"]
        } catch {
            return error.issues.map(\.description)
        }
    }
}
