import Foundation
import XCTest

@testable import WSGate

/// Forward auth against a small Python auth app (Tests/Peers/auth_peer.py auth-app), and the
/// per-subject limits, on a real gateway.
final class ForwardAuthIntegrationTests: XCTestCase {
    private static let secretVariable = "WSGATE_TEST_HMAC_SUBJECTS"
    private static let secret = "subjects-test-secret-of-at-least-32-bytes"
    private var upstream: PeerProcess!
    private var app: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.upstream = try await PeerProcess.pythonEchoServer()
        self.app = try await PeerProcess.start(
            name: "auth-app",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [PeerProcess.python, "-u", PeerProcess.peerScript("auth_peer.py").path, "auth-app"]
        )
        setenv(Self.secretVariable, Self.secret, 1)
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              app:
                endpoints: [127.0.0.1:\(self.upstream.port)]
            routes:
              - name: fa
                match: {path_prefix: /fa/}
                upstream: app
                rewrite_prefix: /
                auth:
                  forward_auth:
                    url: http://127.0.0.1:\(self.app.port)/auth
                    request_headers: [Cookie]
                    response_headers: [X-User-Id, X-User-Role]
                    timeout: 1s
                    cache_ttl: 1m
              - name: limited
                match: {path_prefix: /limited}
                upstream: app
                auth:
                  jwt: {algorithms: [HS256], hmac_secret_env: \(Self.secretVariable)}
                  limits: {max_connections: 2, max_messages_per_second: 5}
            """
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.app?.stop()
        self.upstream?.stop()
    }

    private func calls() async throws -> Int {
        let answer = try await AdminHTTP.get(port: self.app.port, "/calls")
        return try XCTUnwrap(try answer.json().int("calls"))
    }

    private func connect(_ path: String, headers: [(String, String)] = []) async throws -> TestWebSocketClient.HandshakeResult {
        try await TestWebSocketClient.connect(port: self.gateway.port, path: path, headers: headers)
    }

    func testAdmitCopiesTheConfiguredHeadersAndTheCacheSavesTheSecondCall() async throws {
        let client = try await self.connect("/fa/headers", headers: [("Cookie", "session=good"), ("X-User-Id", "mallory")])
            .requireUpgraded()
        let report = try await client.receiveText()
        await client.close()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
        let headers = (object["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }
        XCTAssertEqual(headers.filter { $0.0 == "x-user-id" }.map(\.1), ["u-1"])
        XCTAssertEqual(headers.filter { $0.0 == "x-user-role" }.map(\.1), ["admin"])
        XCTAssertEqual(headers.filter { $0.0 == "x-ignored" }.map(\.1), [], "only the configured answer headers go upstream")
        let firstCalls = try await self.calls()
        XCTAssertEqual(firstCalls, 1)

        let again = try await self.connect("/fa/headers", headers: [("Cookie", "session=good")])
        XCTAssertEqual(again.status, 101)
        let secondCalls = try await self.calls()
        XCTAssertEqual(secondCalls, 1, "the cached answer served the second connection")
    }

    func testRefusalGoesBackWithItsBodyAndChallenge() async throws {
        let refused = try await self.connect("/fa/room", headers: [("Cookie", "session=bad")])
        guard case .refused(let status, let headers, let body) = refused else { return XCTFail("admitted") }
        XCTAssertEqual(status, 401)
        XCTAssertEqual(headers.first { $0.0.lowercased() == "www-authenticate" }?.1, #"Cookie realm="app""#)
        XCTAssertEqual(headers.first { $0.0.lowercased() == "content-type" }?.1, "application/json")
        XCTAssertTrue(body.contains("login required"), body)
        XCTAssertTrue(body.contains("/fa/room"), "the app saw the client's URI: \(body)")
    }

    func testTimeoutIs503() async throws {
        let started = ContinuousClock.now
        let result = try await self.connect("/fa/slow", headers: [("Cookie", "session=good-but-slow")])
        XCTAssertEqual(result.status, 503)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(4), "answered at the 1 s timeout, not after the app's 5 s")
        let stats = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
        XCTAssertEqual(stats.int("routes.fa.auth.refused.forward_auth_unavailable"), 1)
    }

    // MARK: Per-subject limits

    private func token(_ subject: String) -> String {
        TestTokens.hs256(["sub": subject, "exp": Int(Date().timeIntervalSince1970) + 300], secret: Array(Self.secret.utf8))
    }

    func testMaxConnectionsPerSubject() async throws {
        let alice = [("Authorization", "Bearer \(self.token("alice"))")]
        let first = try await self.connect("/limited", headers: alice).requireUpgraded()
        let second = try await self.connect("/limited", headers: alice).requireUpgraded()
        let third = try await self.connect("/limited", headers: alice)
        XCTAssertEqual(third.status, 503)
        let bob = try await self.connect("/limited", headers: [("Authorization", "Bearer \(self.token("bob"))")]).status
        XCTAssertEqual(bob, 101, "another subject has its own count")
        await first.close()
        // The slot is given back when the session ends.
        var status = 503
        for _ in 0..<50 where status != 101 {
            status = try await self.connect("/limited", headers: alice).status
            if status != 101 { try await Task.sleep(for: .milliseconds(100)) }
        }
        XCTAssertEqual(status, 101)
        await second.close()
    }

    func testMaxMessagesPerSecondPerSubjectAcrossConnections() async throws {
        let alice = [("Authorization", "Bearer \(self.token("alice"))")]
        let one = try await self.connect("/limited", headers: alice).requireUpgraded()
        let two = try await self.connect("/limited", headers: alice).requireUpgraded()
        // Three messages on one connection, echoed (so counted), then three on the other: the sixth
        // message of the subject within its second is over its 5, on a connection that sent only three.
        for index in 0..<3 {
            try await one.sendText("one \(index)")
            let echoed = try await one.receiveText()
            XCTAssertEqual(echoed, "one \(index)")
        }
        for index in 0..<3 {
            try await two.sendText("two \(index)")
        }
        let closed = try await two.waitForClose(timeout: .seconds(5))
        XCTAssertEqual(closed.code, 1008)
        XCTAssertEqual(closed.reason, "message rate limit of the subject exceeded")
        let stats = try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json()
        XCTAssertEqual(stats.int("routes.limited.limit_hits.subject_max_messages_per_second"), 1)
    }
}
