import Foundation
import NIOCore
import NIOPosix
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
              - name: checked
                match: {path_prefix: /checked}
                upstream: app
                auth:
                  jwt: {algorithms: [HS256], hmac_secret_env: \(Self.secretVariable)}
                  forward_auth:
                    url: http://127.0.0.1:\(self.app.port)/auth
                    request_headers: [Cookie]
                    timeout: 3s
                  limits: {max_connections: 1}
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

        // The key holds everything the app is shown: another query is another question.
        let otherQuery = try await self.connect("/fa/headers?room=2", headers: [("Cookie", "session=good")])
        XCTAssertEqual(otherQuery.status, 101)
        let thirdCalls = try await self.calls()
        XCTAssertEqual(thirdCalls, 2, "the cached answer of /fa/headers did not serve /fa/headers?room=2")
        // A request without any of the chosen headers is never cached: each one asks the app.
        for _ in 0..<2 {
            let anonymous = try await self.connect("/fa/headers")
            XCTAssertEqual(anonymous.status, 401)
        }
        let lastCalls = try await self.calls()
        XCTAssertEqual(lastCalls, 4)
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

    /// A client that leaves while it is checked (here: forward auth takes a second after the token
    /// passed) does not keep its subject's slot: the slot granted after it left is given back.
    func testAClientLeavingDuringItsCheckGivesItsSubjectSlotBack() async throws {
        let token = self.token("carol")
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: self.gateway.port).get()
        try await channel.writeAndFlush(
            ByteBuffer(
                string: "GET /checked/delay HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + "Authorization: Bearer \(token)\r\nCookie: session=good\r\n\r\n"
            )
        )
        try await channel.close()
        // The decision (admitted, slot taken) arrives after the client left.
        var admitted = 0
        for _ in 0..<100 where admitted == 0 {
            admitted =
                try await AdminHTTP.get(port: self.gateway.adminPort, "/stats").json().int("routes.checked.auth.admitted") ?? 0
            if admitted == 0 { try await Task.sleep(for: .milliseconds(50)) }
        }
        XCTAssertEqual(admitted, 1)
        let next = try await self.connect(
            "/checked/room",
            headers: [("Authorization", "Bearer \(token)"), ("Cookie", "session=good")]
        )
        XCTAssertEqual(next.status, 101, "carol's only slot was given back")
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
