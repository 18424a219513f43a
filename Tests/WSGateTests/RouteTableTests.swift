import XCTest

@testable import WSGate

final class RouteTableTests: XCTestCase {
    private static let noHeaders: [(name: String, value: String)] = []

    func testHostExactIgnoresCaseAndPort() {
        let table = Self.table([Self.route("a", host: .exact("chat.example.com"))])
        for host in ["chat.example.com", "CHAT.Example.com", "chat.example.com:8080", "chat.example.com."] {
            XCTAssertEqual(table.match(host: host, path: "/", headers: Self.noHeaders)?.route.name, "a", host)
        }
        for host in ["example.com", "a.chat.example.com", "chat.example.org", ""] {
            XCTAssertNil(table.match(host: host, path: "/", headers: Self.noHeaders), host)
        }
    }

    func testHostPatternNeverMatchesAMissingHost() {
        let table = Self.table([Self.route("a", host: .exact("chat.example.com")), Self.route("fallback")])
        XCTAssertEqual(table.match(host: nil, path: "/", headers: Self.noHeaders)?.route.name, "fallback")
        XCTAssertEqual(
            Self.table([Self.route("any")]).match(host: nil, path: "/", headers: Self.noHeaders)?.route.name,
            "any"
        )
    }

    func testWildcardHostMatchesSubdomainsOnly() {
        let table = Self.table([Self.route("a", host: .wildcardSuffix("example.com"))])
        for host in ["a.example.com", "a.b.example.com", "A.EXAMPLE.COM:443"] {
            XCTAssertEqual(table.match(host: host, path: "/", headers: Self.noHeaders)?.route.name, "a", host)
        }
        for host in ["example.com", ".example.com", "aexample.com", "a.example.com.evil.net"] {
            XCTAssertNil(table.match(host: host, path: "/", headers: Self.noHeaders), host)
        }
    }

    func testIPv6HostWithPort() {
        let table = Self.table([Self.route("v6", host: .exact("::1")), Self.route("v4", host: .exact("127.0.0.1"))])
        XCTAssertEqual(table.match(host: "[::1]:8080", path: "/", headers: Self.noHeaders)?.route.name, "v6")
        XCTAssertEqual(table.match(host: "[::1]", path: "/", headers: Self.noHeaders)?.route.name, "v6")
        XCTAssertEqual(table.match(host: "127.0.0.1:8080", path: "/", headers: Self.noHeaders)?.route.name, "v4")
        XCTAssertNil(table.match(host: "[::1:8080", path: "/", headers: Self.noHeaders))
    }

    func testPathExactIgnoresQuery() {
        let table = Self.table([Self.route("a", path: .exact("/ws"))])
        XCTAssertEqual(table.match(host: nil, path: "/ws", headers: Self.noHeaders)?.upstreamPath, "/ws")
        XCTAssertEqual(
            table.match(host: nil, path: "/ws?token=1", headers: Self.noHeaders)?.upstreamPath,
            "/ws?token=1"
        )
        for path in ["/ws/", "/wsx", "/WS", "/"] {
            XCTAssertNil(table.match(host: nil, path: path, headers: Self.noHeaders), path)
        }
    }

    func testPathPrefixIsAPlainStringPrefix() {
        let table = Self.table([Self.route("a", path: .prefix("/ws"))])
        for path in ["/ws", "/ws/chat", "/wsx", "/ws?x=1"] {
            XCTAssertEqual(table.match(host: nil, path: path, headers: Self.noHeaders)?.upstreamPath, path, path)
        }
        for path in ["/", "/w", "/api/ws", "/?/ws"] {
            XCTAssertNil(table.match(host: nil, path: path, headers: Self.noHeaders), path)
        }
    }

    func testHeadersMatchNamesCaseInsensitivelyAndValuesExactly() {
        let table = Self.table([
            Self.route(
                "a",
                headers: [HeaderMatch(name: "X-Tenant", value: "blue"), HeaderMatch(name: "x-v", value: "2")]
            )
        ])
        XCTAssertEqual(
            table.match(host: nil, path: "/", headers: [(name: "x-tenant", value: "blue"), (name: "X-V", value: "2")])?
                .route.name,
            "a"
        )
        XCTAssertEqual(
            table.match(
                host: nil,
                path: "/",
                headers: [
                    (name: "X-Tenant", value: "red"), (name: "x-tenant", value: "blue"), (name: "x-v", value: "2"),
                ]
            )?.route.name,
            "a",
            "any one of several values may match"
        )
        XCTAssertNil(table.match(host: nil, path: "/", headers: [(name: "x-tenant", value: "blue")]), "all must match")
        XCTAssertNil(
            table.match(host: nil, path: "/", headers: [(name: "x-tenant", value: "Blue"), (name: "x-v", value: "2")])
        )
        XCTAssertNil(
            table.match(host: nil, path: "/", headers: [(name: "x-tenant", value: "blue "), (name: "x-v", value: "2")])
        )
    }

    func testFirstMatchInFileOrderWins() {
        let table = Self.table([
            Self.route("specific", host: .exact("chat.example.com"), path: .prefix("/ws/admin")),
            Self.route("broad", path: .prefix("/ws")),
            Self.route("shadowed", host: .exact("chat.example.com"), path: .prefix("/ws")),
            Self.route("catch-all"),
        ])
        XCTAssertEqual(
            table.match(host: "chat.example.com", path: "/ws/admin", headers: Self.noHeaders)?.route.name,
            "specific"
        )
        XCTAssertEqual(
            table.match(host: "chat.example.com", path: "/ws/chat", headers: Self.noHeaders)?.route.name,
            "broad"
        )
        XCTAssertEqual(
            table.match(host: "other.example.com", path: "/ws/admin", headers: Self.noHeaders)?.route.name,
            "broad"
        )
        XCTAssertEqual(
            table.match(host: "chat.example.com", path: "/api", headers: Self.noHeaders)?.route.name,
            "catch-all"
        )
        XCTAssertNil(Self.table([]).match(host: "chat.example.com", path: "/", headers: Self.noHeaders))
    }

    func testRewriteReplacesThePrefixAndKeepsTheQuery() {
        let cases: [(prefix: String, rewrite: String, target: String, expected: String)] = [
            ("/ws", "/", "/ws", "/"),
            ("/ws", "/", "/ws/chat", "/chat"),
            ("/ws", "/", "/ws/chat?room=1&x=/y", "/chat?room=1&x=/y"),
            ("/ws", "/", "/ws?room=1", "/?room=1"),
            ("/ws/", "/", "/ws/chat", "/chat"),
            ("/ws", "/api", "/ws/chat", "/api/chat"),
            ("/ws", "/api/", "/ws/chat", "/api/chat"),
            ("/ws", "/api/", "/ws", "/api/"),
            ("/ws", "/api", "/wsx", "/apix"),
            ("/ws", "/api/v2/", "/ws//chat", "/api/v2//chat"),
            ("/", "/backend/", "/chat?q", "/backend/chat?q"),
        ]
        for (prefix, rewrite, target, expected) in cases {
            let table = Self.table([Self.route("a", path: .prefix(prefix), rewritePrefix: rewrite)])
            XCTAssertEqual(
                table.match(host: nil, path: target, headers: Self.noHeaders)?.upstreamPath,
                expected,
                "\(prefix) -> \(rewrite) on \(target)"
            )
        }
    }

    func testSelectionCarriesTheWholeRoute() {
        let route = Self.route("a", path: .prefix("/ws"), rewritePrefix: "/")
        XCTAssertEqual(
            Self.table([route]).match(host: nil, path: "/ws/x?y", headers: Self.noHeaders),
            RouteSelection(route: route, upstreamPath: "/x?y")
        )
    }

    func testTableFromLoadedConfiguration() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                listeners: [{address: 127.0.0.1:8080}]
                upstreams:
                  chat: {endpoints: [127.0.0.1:9001]}
                  echo: {protocol: echo}
                routes:
                  - name: chat
                    match: {host: "*.Example.com", path_prefix: /ws, headers: {X-A: "1"}}
                    upstream: chat
                    rewrite_prefix: /
                  - match: {path: /echo}
                    upstream: echo
                  - name: everything-else
                    upstream: echo
                """,
            file: "t.yaml"
        )
        let table = RouteTable(configuration: configuration)
        XCTAssertEqual(
            table.match(host: "eu.example.com", path: "/ws/room?id=7", headers: [(name: "x-a", value: "1")]),
            RouteSelection(route: configuration.routes[0], upstreamPath: "/room?id=7")
        )
        XCTAssertEqual(
            table.match(host: "eu.example.com", path: "/echo", headers: Self.noHeaders)?.route.name,
            "route_2"
        )
        XCTAssertEqual(table.match(host: nil, path: "/ws", headers: Self.noHeaders)?.route.name, "everything-else")
        XCTAssertEqual(
            table.description,
            """
            chat             host=*.example.com path_prefix=/ws headers=x-a:1 -> upstream chat (rewrite /)
            route_2          path=/echo -> upstream echo
            everything-else  any -> upstream echo
            """
        )
    }

    func testDescriptionOfAnEmptyTable() {
        XCTAssertEqual(Self.table([]).description, "(no routes)")
    }

    private static func table(_ routes: [RouteConfiguration]) -> RouteTable {
        RouteTable(configuration: GatewayConfiguration(listeners: [], routes: routes))
    }

    private static func route(
        _ name: String,
        host: HostPattern? = nil,
        path: PathPattern? = nil,
        headers: [HeaderMatch] = [],
        rewritePrefix: String? = nil
    ) -> RouteConfiguration {
        RouteConfiguration(
            name: name,
            match: RouteMatch(host: host, path: path, headers: headers),
            upstream: "up",
            rewritePrefix: rewritePrefix
        )
    }
}
