import Foundation
import NIOWebSocket
import XCTest

@testable import WSGate

/// JWT validation at the edge on a real gateway, with tokens made by PyJWT + cryptography
/// (Tests/Peers/auth_peer.py) and the Python `websockets` echo server as the upstream, whose
/// `/headers` path reports what reached it.
final class AuthIntegrationTests: XCTestCase {
    private static let secretVariable = "WSGATE_TEST_HMAC_SECRET"
    private var keys: URL!
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.keys = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-auth-\(UUID().uuidString)")
        _ = try await runPythonPeer("auth_peer.py", args: ["keys", "--dir", self.keys.path])
        setenv(Self.secretVariable, try String(contentsOf: self.keys.appendingPathComponent("hmac.secret"), encoding: .utf8), 1)
        self.upstream = try await PeerProcess.pythonEchoServer()
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
        try? FileManager.default.removeItem(at: self.keys)
    }

    private func start(routes: String, log: String = "") async throws {
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app:
                endpoints: [127.0.0.1:\(self.upstream.port)]
            routes:
            \(routes)
            \(log)
            """
        )
    }

    /// The route most tests use: every algorithm from the JWKS file plus the HMAC secret.
    private var everyAlgorithmRoute: String {
        """
          - name: app
            match: {path_prefix: /app/}
            upstream: app
            rewrite_prefix: /
            auth:
              jwt:
                algorithms: [RS256, PS256, ES256, ES384, ES512, EdDSA, HS256]
                jwks_file: \(self.keys.path)/jwks.json
                hmac_secret_env: \(Self.secretVariable)
                issuer: https://issuer.test
                audiences: [wsgate]
                leeway: 1s
              token_sources: [bearer, {cookie: session}, {query: access_token}, {subprotocol: bearer.}]
              claim_headers: {sub: X-User-Id, role: X-User-Role}
          - name: admins
            match: {path_prefix: /admins/}
            upstream: app
            rewrite_prefix: /
            auth:
              jwt:
                algorithms: [ES256]
                pem_files: [\(self.keys.path)/es256.pem]
                required_claims: {role: admin}
        """
    }

    /// Tokens by name from a spec (see auth_peer.py mint); `good` claims unless given.
    private func mint(_ spec: [String: [String: Any]]) async throws -> [String: String] {
        var full: [String: [String: Any]] = [:]
        for (name, item) in spec {
            var item = item
            if item["claims"] == nil {
                item["claims"] = ["sub": "alice", "role": "editor", "iss": "https://issuer.test", "aud": "wsgate"]
            }
            if item["exp_in"] == nil { item["exp_in"] = 300 }
            full[name] = item
        }
        let data = try JSONSerialization.data(withJSONObject: full)
        let result = try await runPythonPeer(
            "auth_peer.py",
            args: ["mint", "--dir", self.keys.path, "--spec", String(decoding: data, as: UTF8.self)]
        )
        return try XCTUnwrap(result["tokens"] as? [String: String])
    }

    private func connect(
        _ path: String = "/app/headers",
        headers: [(String, String)] = []
    ) async throws -> TestWebSocketClient.HandshakeResult {
        try await TestWebSocketClient.connect(port: self.gateway.port, path: path, headers: headers)
    }

    /// The upstream's report of the request it got: its URI and headers.
    private func upstreamSaw(
        _ result: TestWebSocketClient.HandshakeResult
    ) async throws -> (uri: String, headers: [(String, String)]) {
        let client = try result.requireUpgraded()
        let report = try await client.receiveText()
        await client.close()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
        let pairs = (object["headers"] as? [[String]] ?? []).map { ($0[0], $0[1]) }
        return (object["uri"] as? String ?? "", pairs)
    }

    private func values(_ headers: [(String, String)], _ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }

    private func stats() async throws -> [String: Any] {
        try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
    }

    // MARK: Algorithms and keys

    func testEveryAlgorithmIsAcceptedAndTheUpstreamLearnsTheClaims() async throws {
        try await self.start(routes: self.everyAlgorithmRoute)
        let tokens = try await self.mint([
            "RS256": ["alg": "RS256", "key": "rs", "kid": "rs"],
            "PS256": ["alg": "PS256", "key": "ps", "kid": "ps"],
            "ES256": ["alg": "ES256", "key": "es256", "kid": "es256"],
            "ES384": ["alg": "ES384", "key": "es384", "kid": "es384"],
            "ES512": ["alg": "ES512", "key": "es512", "kid": "es512"],
            "EdDSA": ["alg": "EdDSA", "key": "ed", "kid": "ed"],
            "HS256": ["alg": "HS256", "key": "hmac"],
        ])
        for (algorithm, token) in tokens.sorted(by: { $0.key < $1.key }) {
            let result = try await self.connect(headers: [("Authorization", "Bearer \(token)")])
            XCTAssertEqual(result.status, 101, "\(algorithm) refused: \(result)")
            guard result.status == 101 else { continue }
            let seen = try await self.upstreamSaw(result)
            XCTAssertEqual(self.values(seen.headers, "X-User-Id"), ["alice"], algorithm)
            XCTAssertEqual(self.values(seen.headers, "X-User-Role"), ["editor"], algorithm)
            XCTAssertEqual(self.values(seen.headers, "Authorization"), [], "\(algorithm): the token is not relayed")
        }
        let stats = try await self.stats()
        XCTAssertEqual(stats.int("routes.app.auth.admitted"), 7)
    }

    func testPEMKeyAndRequiredClaim() async throws {
        try await self.start(routes: self.everyAlgorithmRoute)
        let tokens = try await self.mint([
            "admin": ["alg": "ES256", "key": "es256", "claims": ["sub": "root", "role": "admin"]],
            "editor": ["alg": "ES256", "key": "es256", "claims": ["sub": "bob", "role": "editor"]],
        ])
        let admitted = try await self.connect("/admins/", headers: [("Authorization", "Bearer \(tokens["admin"]!)")])
        XCTAssertEqual(admitted.status, 101)
        let refused = try await self.connect("/admins/", headers: [("Authorization", "Bearer \(tokens["editor"]!)")])
        XCTAssertEqual(refused.status, 403)
        let stats = try await self.stats()
        XCTAssertEqual(stats.int("routes.admins.auth.refused.claim_mismatch"), 1)
    }

    /// Every bad token gets 401 with the Bearer challenge, is counted by reason, and never reaches
    /// the upstream.
    func testBadTokensAreRefusedBeforeTheUpstreamIsDialled() async throws {
        try await self.start(routes: self.everyAlgorithmRoute)
        let pem = try String(contentsOf: self.keys.appendingPathComponent("rs.pem"), encoding: .utf8)
        let tokens = try await self.mint([
            "expired": ["alg": "ES256", "key": "es256", "kid": "es256", "exp_in": -60],
            "not_yet_valid": ["alg": "ES256", "key": "es256", "kid": "es256", "nbf_in": 120],
            "wrong_audience": [
                "alg": "ES256", "key": "es256", "kid": "es256",
                "claims": ["sub": "alice", "iss": "https://issuer.test", "aud": "someone-else"],
            ],
            "wrong_issuer": [
                "alg": "ES256", "key": "es256", "kid": "es256",
                "claims": ["sub": "alice", "iss": "https://evil.test", "aud": "wsgate"],
            ],
            "alg_none": ["alg": "none"],
            "confusion": ["alg": "HS256", "secret": pem, "kid": "rs"],
            "unknown_kid": ["alg": "ES256", "key": "es256", "kid": "nobody"],
            "signature": ["alg": "ES256", "key": "es256", "kid": "es256"],
        ])
        var tampered = tokens["signature"]!.split(separator: ".").map(String.init)
        tampered[2] = String(tampered[2].reversed())
        let cases: [(token: String?, reason: String)] = [
            (tokens["expired"], "expired"),
            (tokens["not_yet_valid"], "not_yet_valid"),
            (tokens["wrong_audience"], "wrong_audience"),
            (tokens["wrong_issuer"], "wrong_issuer"),
            (tokens["alg_none"], "algorithm_not_allowed"),
            // Checked with the route's HMAC secret, never with the RSA key its kid names.
            (tokens["confusion"], "bad_signature"),
            (tokens["unknown_kid"], "unknown_key"),
            (tampered.joined(separator: "."), "bad_signature"),
            ("not-a-token", "malformed_token"),
            (nil, "missing_token"),
        ]
        for (token, reason) in cases {
            let result = try await self.connect(headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
            XCTAssertEqual(result.status, 401, reason)
            XCTAssertEqual(result.header("WWW-Authenticate")?.hasPrefix("Bearer error=\"invalid_token\""), true, reason)
        }
        let stats = try await self.stats()
        XCTAssertEqual(stats.int("routes.app.auth.refused.bad_signature"), 2)
        for reason in ["expired", "not_yet_valid", "wrong_audience", "wrong_issuer", "algorithm_not_allowed", "unknown_key"] {
            XCTAssertEqual(stats.int("routes.app.auth.refused.\(reason)"), 1, reason)
        }
        XCTAssertEqual(stats.int("routes.app.handshake_failures.401"), cases.count)
        XCTAssertEqual(stats.int("upstreams.app.connects") ?? 0, 0, "the upstream was never dialled")
        let metrics = try await AdminHTTP.get(port: self.gateway.adminPort, "/metrics")
        XCTAssertTrue(metrics.body.contains(#"wsgate_auth_refusals_total{route="app",reason="expired"} 1"#), metrics.body)
    }

    // MARK: Token sources and what goes upstream

    func testEachTokenSourceAndTheTokenLeavesTheForwardedRequest() async throws {
        let accessLog = self.keys.appendingPathComponent("access.log")
        try await self.start(
            routes: self.everyAlgorithmRoute,
            log: "log: {access: {format: json, destination: \(accessLog.path)}}"
        )
        let token = try await self.mint(["t": ["alg": "ES256", "key": "es256", "kid": "es256"]])["t"]!

        let cookie = try await self.upstreamSaw(try await self.connect(headers: [("Cookie", "theme=dark; session=\(token)")]))
        XCTAssertEqual(self.values(cookie.headers, "X-User-Id"), ["alice"])
        XCTAssertEqual(self.values(cookie.headers, "Cookie"), ["theme=dark"])

        let query = try await self.upstreamSaw(try await self.connect("/app/headers?room=1&access_token=\(token)"))
        XCTAssertEqual(self.values(query.headers, "X-User-Id"), ["alice"])
        XCTAssertEqual(query.uri, "/headers?room=1", "the query token is not forwarded")

        let subprotocol = try await self.connect(headers: [("Sec-WebSocket-Protocol", "chat, bearer.\(token)")])
        XCTAssertEqual(subprotocol.header("Sec-WebSocket-Protocol"), "chat")
        let seen = try await self.upstreamSaw(subprotocol)
        XCTAssertEqual(self.values(seen.headers, "Sec-WebSocket-Protocol"), ["chat"], "the token is not offered upstream")
        XCTAssertEqual(self.values(seen.headers, "X-User-Id"), ["alice"])

        // The access log names the subject of each session, and never carries the token.
        var lines: [String] = []
        for _ in 0..<100 where lines.count < 3 {
            lines = (try? String(contentsOf: accessLog, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
            if lines.count < 3 { try await Task.sleep(for: .milliseconds(100)) }
        }
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines.allSatisfy { $0.contains(#""subject":"alice""#) }, lines.joined(separator: "\n"))
        XCTAssertFalse(lines.contains { $0.contains(token) }, "the token is never logged")
    }

    func testTheClientsOwnIdentityHeadersNeverReachTheUpstream() async throws {
        try await self.start(routes: self.everyAlgorithmRoute)
        let token = try await self.mint([
            "t": [
                "alg": "ES256", "key": "es256", "kid": "es256",
                "claims": ["sub": "alice", "iss": "https://issuer.test", "aud": "wsgate"],
            ]
        ])["t"]!
        let seen = try await self.upstreamSaw(
            try await self.connect(headers: [
                ("Authorization", "Bearer \(token)"),
                ("X-User-Id", "mallory"),
                ("X_User_Id", "mallory"),
                ("x-user-role", "admin"),
            ])
        )
        XCTAssertEqual(self.values(seen.headers, "X-User-Id"), ["alice"])
        XCTAssertEqual(self.values(seen.headers, "X_User_Id"), [])
        XCTAssertEqual(self.values(seen.headers, "X-User-Role"), [], "no role claim: no header, and the client's copy is dropped")
    }

    func testALiveSessionIsClosedAtItsTokensExpiryReloadOrNot() async throws {
        try await self.start(
            routes: """
                  - name: short
                    upstream: app
                    auth:
                      jwt: {algorithms: [HS256], hmac_secret_env: \(Self.secretVariable), leeway: 0s}
                """
        )
        let token = try await self.mint(["t": ["alg": "HS256", "key": "hmac", "exp_in": 2, "claims": ["sub": "alice"]]])["t"]!
        let client = try await self.connect("/", headers: [("Authorization", "Bearer \(token)")]).requireUpgraded()
        try await client.sendText("still here")
        let echoed = try await client.receiveText()
        XCTAssertEqual(echoed, "still here")
        // A reload does not touch the session's deadline.
        _ = try await self.gateway.gateway.reload()
        let close = try await client.waitForClose(timeout: .seconds(10))
        XCTAssertEqual(close.code, 1008)
        XCTAssertEqual(close.reason, "token expired")
        let stats = try await self.stats()
        XCTAssertEqual(stats.int("routes.short.limit_hits.token_expired"), 1)
    }

    // MARK: JWKS URL

    func testJWKSURLRotationAndIssuerDown() async throws {
        let issuer = try await PeerProcess.start(
            name: "jwks-server",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [
                PeerProcess.python, "-u", PeerProcess.peerScript("auth_peer.py").path, "jwks-server", "--dir", self.keys.path,
            ]
        )
        defer { issuer.stop() }
        try await self.start(
            routes: """
                  - name: remote
                    upstream: app
                    auth:
                      jwt:
                        algorithms: [ES256]
                        jwks_url: {url: "http://127.0.0.1:\(issuer.port)/jwks.json", refresh_interval: 1h, max_stale: 2s}
                """
        )
        let first = try await self.mint(["t": ["alg": "ES256", "key": "es256", "kid": "es256"]])["t"]!
        let firstStatus = try await self.connect("/", headers: [("Authorization", "Bearer \(first)")]).status
        XCTAssertEqual(firstStatus, 101)

        // The issuer rotates: a new key under a new kid, picked up by the first token naming it.
        let rotated = self.keys.appendingPathComponent("rotated")
        _ = try await runPythonPeer("auth_peer.py", args: ["keys", "--dir", rotated.path, "--kid-suffix", "-2"])
        try FileManager.default.removeItem(at: self.keys.appendingPathComponent("jwks.json"))
        try FileManager.default.copyItem(
            at: rotated.appendingPathComponent("jwks.json"),
            to: self.keys.appendingPathComponent("jwks.json")
        )
        try FileManager.default.copyItem(
            at: rotated.appendingPathComponent("es256.key"),
            to: self.keys.appendingPathComponent("es256-2.key")
        )
        let second = try await self.mint(["t": ["alg": "ES256", "key": "es256-2", "kid": "es256-2"]])["t"]!
        // An unknown kid fetches at once, but at most once a second: the first try may come too soon
        // after the first fetch.
        var rotatedStatus = 401
        for _ in 0..<20 where rotatedStatus != 101 {
            rotatedStatus = try await self.connect("/", headers: [("Authorization", "Bearer \(second)")]).status
            if rotatedStatus != 101 { try await Task.sleep(for: .milliseconds(200)) }
        }
        XCTAssertEqual(rotatedStatus, 101)

        // The issuer goes down: the keys held keep working until max_stale, then tokens are refused.
        FileManager.default.createFile(atPath: self.keys.appendingPathComponent("down").path, contents: Data())
        let downSince = ContinuousClock.now
        let staleStatus = try await self.connect("/", headers: [("Authorization", "Bearer \(second)")]).status
        XCTAssertEqual(staleStatus, 101, "stale keys serve")
        var status = 101
        for _ in 0..<100 where status == 101 && ContinuousClock.now - downSince < .seconds(20) {
            try await Task.sleep(for: .milliseconds(200))
            status = try await self.connect("/", headers: [("Authorization", "Bearer \(second)")]).status
        }
        XCTAssertEqual(status, 503, "refused once the keys are older than max_stale")
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - downSince, .seconds(1))
        let stats = try await self.stats()
        XCTAssertGreaterThanOrEqual(stats.int("routes.remote.auth.refused.keys_unavailable") ?? 0, 1)

        // Back up: served again.
        try FileManager.default.removeItem(at: self.keys.appendingPathComponent("down"))
        var back = 503
        for _ in 0..<50 where back != 101 {
            try await Task.sleep(for: .milliseconds(200))
            back = try await self.connect("/", headers: [("Authorization", "Bearer \(second)")]).status
        }
        XCTAssertEqual(back, 101)
    }
}
