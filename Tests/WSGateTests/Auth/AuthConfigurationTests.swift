import XCTest

@testable import WSGate

/// A route's `auth` block: what it reads, its defaults, and every mistake reported at its line and key.
final class AuthConfigurationTests: XCTestCase {
    private static func yaml(_ auth: String) -> String {
        """
        listeners:
          - address: 127.0.0.1:8080
        upstreams:
          app:
            endpoints: [127.0.0.1:9001]
        routes:
          - name: app
            upstream: app
            auth:
        \(auth.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }.joined(separator: "\n"))
        """
    }

    private static func issues(_ auth: String) -> [String] {
        do {
            _ = try GatewayConfiguration.parse(yaml: self.yaml(auth), file: "t.yaml")
            return []
        } catch {
            return (error as? ConfigurationError)?.issues.map(\.description) ?? ["\(error)"]
        }
    }

    func testEveryKeyIsRead() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: Self.yaml(
                """
                jwt:
                  algorithms: [ES256, RS256]
                  jwks_url: {url: "https://issuer.example/jwks.json", refresh_interval: 1m, max_stale: 10m, timeout: 2s}
                  pem_files: [keys/a.pem, {file: keys/b.pem, kid: b}]
                  issuer: https://issuer.example
                  audiences: [chat]
                  leeway: 5s
                  required_claims: {role: [admin, editor], tenant: acme}
                token_sources: [bearer, {cookie: session}, {query: access_token}, {subprotocol: bearer.}]
                claim_headers: {sub: X-User-Id, email: X-User-Email}
                token_header: X-Auth-Token
                subject_claim: uid
                expiry_grace: 10s
                forward_auth:
                  url: http://127.0.0.1:9100/auth
                  request_headers: [Cookie]
                  response_headers: [X-User-Role]
                  timeout: 1s
                  cache_ttl: 30s
                limits: {max_connections: 3, max_messages_per_second: 50}
                """
            ),
            file: "t.yaml"
        )
        let auth = try XCTUnwrap(configuration.routes.first?.auth)
        let jwt = try XCTUnwrap(auth.jwt)
        XCTAssertEqual(jwt.algorithms, [.es256, .rs256])
        XCTAssertEqual(jwt.keys.jwksURL?.url, "https://issuer.example/jwks.json")
        XCTAssertEqual(jwt.keys.jwksURL?.refreshInterval, .seconds(60))
        XCTAssertEqual(jwt.keys.jwksURL?.maxStale, .seconds(600))
        XCTAssertEqual(jwt.keys.pemFiles.map(\.kid), [nil, "b"])
        XCTAssertEqual(jwt.issuer, "https://issuer.example")
        XCTAssertEqual(jwt.audiences, ["chat"])
        XCTAssertEqual(jwt.leeway, .seconds(5))
        XCTAssertEqual(
            jwt.requiredClaims,
            [RequiredClaim(name: "role", values: ["admin", "editor"]), RequiredClaim(name: "tenant", values: ["acme"])]
        )
        XCTAssertEqual(auth.tokenSources, [.bearer, .cookie("session"), .query("access_token"), .subprotocol(prefix: "bearer.")])
        XCTAssertEqual(
            auth.claimHeaders,
            [ClaimHeader(claim: "sub", header: "X-User-Id"), ClaimHeader(claim: "email", header: "X-User-Email")]
        )
        XCTAssertEqual(auth.tokenHeader, "X-Auth-Token")
        XCTAssertEqual(auth.subjectClaim, "uid")
        XCTAssertEqual(auth.expiryGrace, .seconds(10))
        XCTAssertEqual(auth.forwardAuth?.requestHeaders, ["Cookie"])
        XCTAssertEqual(auth.forwardAuth?.cacheTTL, .seconds(30))
        XCTAssertEqual(auth.maxConnectionsPerSubject, 3)
        XCTAssertEqual(auth.maxMessagesPerSecondPerSubject, 50)
        XCTAssertEqual(auth.upstreamHeaderNames, ["x-user-id", "x-user-email", "x-auth-token", "x-user-role"])
    }

    func testDefaults() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: Self.yaml("jwt: {algorithms: [HS256], hmac_secret_env: SECRET}"),
            file: "t.yaml"
        )
        let auth = try XCTUnwrap(configuration.routes.first?.auth)
        XCTAssertEqual(auth.tokenSources, [.bearer])
        XCTAssertEqual(auth.subjectClaim, "sub")
        XCTAssertEqual(auth.expiryGrace, .zero)
        XCTAssertEqual(auth.jwt?.leeway, .seconds(30))
        XCTAssertNil(auth.forwardAuth)
    }

    func testAlgNoneAndUnknownAlgorithmsAreRefused() {
        XCTAssertEqual(
            Self.issues("jwt: {algorithms: [none, RS257], pem_files: [k.pem]}"),
            [
                "t.yaml:10:26: routes[0].auth.jwt.algorithms[0]: 'none' is never accepted (unsigned tokens)",
                "t.yaml:10:32: routes[0].auth.jwt.algorithms[1]: unknown algorithm 'RS257' (did you mean 'RS256'?)",
            ]
        )
    }

    func testKeySourceRules() {
        XCTAssertEqual(
            Self.issues("jwt: {algorithms: [RS256]}"),
            ["t.yaml:10:12: routes[0].auth.jwt: jwt needs a key source: one of jwks_file, pem_files, hmac_secret_env, jwks_url"]
        )
        XCTAssertEqual(
            Self.issues("jwt: {algorithms: [HS256], pem_files: [k.pem]}"),
            ["t.yaml:10:25: routes[0].auth.jwt.algorithms: HS* algorithms need 'hmac_secret_env' (or an oct key in jwks_file)"]
        )
        XCTAssertEqual(
            Self.issues("jwt: {algorithms: [RS256], hmac_secret_env: S}"),
            [
                "t.yaml:10:25: routes[0].auth.jwt.algorithms: public-key algorithms need 'pem_files', 'jwks_file' or 'jwks_url'",
                "t.yaml:10:34: routes[0].auth.jwt.hmac_secret_env: 'hmac_secret_env' needs an HS* algorithm in 'algorithms'",
            ]
        )
    }

    func testTokenSourceMistakes() {
        XCTAssertEqual(
            Self.issues(
                "jwt: {algorithms: [HS256], hmac_secret_env: S}\ntoken_sources: [header, {cookie: a, query: b}, {form: x}]"
            ),
            [
                "t.yaml:11:23: routes[0].auth.token_sources[0]: unknown token source 'header' (expected bearer, cookie: NAME, query: NAME or subprotocol: PREFIX)",
                "t.yaml:11:31: routes[0].auth.token_sources[1]: a token source is one of bearer, cookie: NAME, query: NAME or subprotocol: PREFIX",
                "t.yaml:11:55: routes[0].auth.token_sources[2].form: unknown token source 'form' (expected bearer, cookie, query or subprotocol)",
            ]
        )
    }

    func testAuthNeedsAMechanismAndUnknownKeysAreNamed() {
        XCTAssertEqual(Self.issues("{}"), ["t.yaml:10:7: routes[0].auth: auth needs 'jwt' or 'forward_auth'"])
        XCTAssertEqual(
            Self.issues("forward_auth: {url: http://127.0.0.1:1/auth, cache: 5s}"),
            [
                "t.yaml:10:52: routes[0].auth.forward_auth.cache: unknown key (valid keys: url, request_headers, response_headers, timeout, cache_ttl)"
            ]
        )
    }

    func testKeyFilesAreReadAtLoadWithTheirLine() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: Self.yaml(
                "jwt: {algorithms: [ES256, HS256], pem_files: [/nonexistent/k.pem], hmac_secret_env: WSGATE_TEST_UNSET}"
            ),
            file: "t.yaml"
        )
        let auth = try XCTUnwrap(configuration.routes.first?.auth)
        XCTAssertThrowsError(try RouteAuthenticator.load(auth, previous: nil, environment: [:])) { error in
            XCTAssertEqual(
                (error as? ConfigurationError)?.issues.map(\.description),
                [
                    "t.yaml:10:53: routes[0].auth.jwt.pem_files[0]: pem file '/nonexistent/k.pem': cannot be read (no such file)",
                    "t.yaml:10:91: routes[0].auth.jwt.hmac_secret_env: environment variable WSGATE_TEST_UNSET is not set",
                ]
            )
        }
        XCTAssertThrowsError(try RouteAuthenticator.load(auth, previous: nil, environment: ["WSGATE_TEST_UNSET": "short"]))
    }
}
