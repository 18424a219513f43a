import Foundation
import NIOCore
import NIOSSL
import XCTest

@testable import WSGate

/// TLS termination on a real listener, checked with clients we did not write: Python's `websockets`
/// (wss echo) and Python's `ssl` module (OpenSSL) through Tests/Peers/tls_probe.py. Certificates are
/// generated per test by `TestCertificateAuthority`.
final class TLSListenerTests: XCTestCase {
    private var authority: TestCertificateAuthority!
    private var gateway: GatewayHarness?

    override func setUp() async throws {
        self.authority = try TestCertificateAuthority()
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.authority = nil
    }

    private static let echoRoutes = """
        upstreams:
          echo: {protocol: echo}
        routes:
          - match: {path_prefix: /echo}
            upstream: echo
        defaults:
          limits: {handshake_timeout: 2s}
        """

    private func startGateway(certificates: [TestCertificateAuthority.Issued], extra: String = "") async throws -> GatewayHarness
    {
        let list = certificates.map { "{cert: \"\($0.certificatePath)\", key: \"\($0.keyPath)\"}" }.joined(separator: ", ")
        let gateway = try await GatewayHarness.start(Self.echoRoutes, tls: "{certificates: [\(list)]\(extra)}")
        self.gateway = gateway
        return gateway
    }

    private func probe(_ port: Int, _ args: [String]) async throws -> [String: Any] {
        try await runPythonPeer("tls_probe.py", args: ["127.0.0.1", "\(port)"] + args, timeout: .seconds(60))
    }

    func testWSSEchoWithPythonWebsocketsClient() async throws {
        let gateway = try await self.startGateway(certificates: [try self.authority.issue("localhost")])
        let result = try await runPythonClient(args: [
            "echo", "wss://localhost:\(gateway.port)/echo", "--ca", self.authority.caPath, "--sizes", "0,1,125,65536,1048576",
        ])
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
        XCTAssertEqual(result["messages"] as? Int, 10)
        XCTAssertEqual(result["tls_version"] as? String, "TLSv1.3")
    }

    func testChainWithIntermediateAndRSAKeyIsServed() async throws {
        let rsa = try self.authority.issue("rsa", key: .rsa2048, viaIntermediate: true)
        let gateway = try await self.startGateway(certificates: [rsa])
        // The client trusts only the root: the handshake needs the intermediate from the cert file.
        let tls12 = try await self.probe(
            gateway.port,
            ["--ca", self.authority.caPath, "--server-name", "localhost", "--max-version", "1.2"]
        )
        XCTAssertEqual(tls12["ok"] as? Bool, true, "\(tls12)")
        XCTAssertEqual(tls12["version"] as? String, "TLSv1.2")
        XCTAssertEqual((tls12["cipher"] as? String)?.hasPrefix("ECDHE-RSA-"), true, "\(tls12)")
        let echo = try await runPythonClient(args: [
            "echo", "wss://localhost:\(gateway.port)/echo", "--ca", self.authority.caPath,
        ])
        XCTAssertEqual(echo["ok"] as? Bool, true, "\(echo)")
    }

    func testSNIChoosesTheCertificateBySubjectAlternativeName() async throws {
        let first = try self.authority.issue("a", dnsNames: ["a.test"])
        let second = try self.authority.issue("b", dnsNames: ["b.test", "*.b.test"])
        let gateway = try await self.startGateway(certificates: [first, second])
        let ca = ["--ca", self.authority.caPath]

        let exact = try await self.probe(gateway.port, ca + ["--server-name", "b.test"])
        XCTAssertEqual(exact["peer_dns_names"] as? [String], ["b.test", "*.b.test"], "\(exact)")
        let wildcard = try await self.probe(gateway.port, ca + ["--server-name", "Chat.B.Test"])
        XCTAssertEqual(wildcard["ok"] as? Bool, true, "\(wildcard)")
        XCTAssertEqual(wildcard["peer_dns_names"] as? [String], ["b.test", "*.b.test"])
        let firstName = try await self.probe(gateway.port, ca + ["--server-name", "a.test"])
        XCTAssertEqual(firstName["peer_dns_names"] as? [String], ["a.test"], "\(firstName)")
        // No match (and a wildcard covers one label only): the first certificate is the fallback.
        let fallback = try await self.probe(gateway.port, ca + ["--server-name", "x.y.b.test", "--no-check-hostname"])
        XCTAssertEqual(fallback["peer_dns_names"] as? [String], ["a.test"], "\(fallback)")

        let echo = try await runPythonClient(
            args: ["echo", "wss://127.0.0.1:\(gateway.port)/echo", "--server-name", "chat.b.test"] + ca
        )
        XCTAssertEqual(echo["ok"] as? Bool, true, "\(echo)")
        XCTAssertEqual(echo["peer_dns_names"] as? [String], ["b.test", "*.b.test"])
    }

    func testTLS11IsRefusedAndTLS13IsNegotiated() async throws {
        let gateway = try await self.startGateway(certificates: [try self.authority.issue("localhost")])
        let ca = ["--ca", self.authority.caPath, "--server-name", "localhost"]

        let tls11 = try await self.probe(gateway.port, ca + ["--min-version", "1.1", "--max-version", "1.1"])
        XCTAssertEqual(tls11["ok"] as? Bool, false, "\(tls11)")
        // The refusal is the server's protocol_version alert, not a local client limitation.
        XCTAssertEqual(tls11["reason"] as? String, "TLSV1_ALERT_PROTOCOL_VERSION", "\(tls11)")
        let tls10 = try await self.probe(gateway.port, ca + ["--min-version", "1.0", "--max-version", "1.0"])
        XCTAssertEqual(tls10["reason"] as? String, "TLSV1_ALERT_PROTOCOL_VERSION", "\(tls10)")

        let tls13 = try await self.probe(gateway.port, ca)
        XCTAssertEqual(tls13["version"] as? String, "TLSv1.3", "\(tls13)")
        XCTAssertEqual(tls13["alpn"] as? String, "http/1.1")
        let tls12 = try await self.probe(gateway.port, ca + ["--max-version", "1.2"])
        XCTAssertEqual(tls12["version"] as? String, "TLSv1.2", "\(tls12)")
    }

    func testMinimumVersion13AndCipherList() async throws {
        let gateway = try await self.startGateway(
            certificates: [try self.authority.issue("localhost")],
            extra: ", min_version: \"1.3\""
        )
        let ca = ["--ca", self.authority.caPath, "--server-name", "localhost"]
        let tls12 = try await self.probe(gateway.port, ca + ["--max-version", "1.2"])
        XCTAssertEqual(tls12["reason"] as? String, "TLSV1_ALERT_PROTOCOL_VERSION", "\(tls12)")
        let tls13 = try await self.probe(gateway.port, ca)
        XCTAssertEqual(tls13["version"] as? String, "TLSv1.3", "\(tls13)")
        await gateway.stop()

        let pinned = try await self.startGateway(
            certificates: [try self.authority.issue("pinned")],
            extra: ", ciphers: [ECDHE-ECDSA-CHACHA20-POLY1305]"
        )
        let chacha = try await self.probe(pinned.port, ca + ["--max-version", "1.2"])
        XCTAssertEqual(chacha["cipher"] as? String, "ECDHE-ECDSA-CHACHA20-POLY1305", "\(chacha)")
    }

    func testForwardedProtoIsHTTPS() async throws {
        let upstream = try await PeerProcess.pythonEchoServer()
        defer { upstream.stop() }
        let issued = try self.authority.issue("localhost")
        let gateway = try await GatewayHarness.start(
            """
            upstreams:
              py: {endpoints: [127.0.0.1:\(upstream.port)]}
            routes:
              - match: {path_prefix: /}
                upstream: py
            """,
            tls: "{certificates: [{cert: \"\(issued.certificatePath)\", key: \"\(issued.keyPath)\"}]}"
        )
        self.gateway = gateway
        let client = try await self.nioClient(
            port: gateway.port,
            path: "/headers",
            headers: [("X-Client-Cert-Subject", "CN=forged")]
        )
        let description = try await client.receiveText()
        await client.close()
        let headers = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(description.utf8)) as? [String: Any])?["headers"] as? [[String]]
        )
        let byName = Dictionary(headers.map { ($0[0].lowercased(), $0[1]) }, uniquingKeysWith: { "\($0), \($1)" })
        XCTAssertEqual(byName["x-forwarded-proto"], "https")
        XCTAssertEqual(byName["forwarded"]?.hasSuffix("proto=https"), true, "\(byName)")
        XCTAssertNil(byName["x-client-cert-subject"], "a client's own X-Client-Cert-Subject must not pass")
    }

    func testFailedHandshakesDoNotDisturbAnOpenSession() async throws {
        let gateway = try await self.startGateway(certificates: [try self.authority.issue("localhost")])
        let session = try await self.nioClient(port: gateway.port, path: "/echo")
        try await session.sendText("before")
        let reply1 = try await session.receiveText()
        XCTAssertEqual(reply1, "before")

        // Plain HTTP to the TLS port: no HTTP answer, the connection is closed.
        let plain = try await TestWebSocketClient.rawHTTPRequest(
            port: gateway.port,
            request: "GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        )
        XCTAssertFalse(plain.hasPrefix("HTTP/"), plain)
        // A client that does not trust the certificate aborts its handshake.
        let untrusted = try await self.probe(gateway.port, ["--server-name", "localhost"])
        XCTAssertEqual(untrusted["ok"] as? Bool, false, "\(untrusted)")
        // A client that connects and never starts TLS is closed at handshake_timeout (2 s here).
        let silentStart = ContinuousClock.now
        let silent = try await TestWebSocketClient.rawRequest(port: gateway.port, bytes: [], timeout: .seconds(10))
        XCTAssertEqual(silent, [])
        XCTAssertLessThan(ContinuousClock.now - silentStart, .seconds(8))

        XCTAssertEqual(gateway.gateway.failedTLSHandshakes["public"], 3)

        try await session.sendText("after")
        let reply2 = try await session.receiveText()
        XCTAssertEqual(reply2, "after")
        await session.close()
    }

    func testSelfSignedDevelopmentCertificate() async throws {
        let gateway = try await GatewayHarness.start(Self.echoRoutes, tls: "{self_signed: true}")
        self.gateway = gateway
        let probe = try await self.probe(gateway.port, ["--no-verify"])
        XCTAssertEqual(probe["ok"] as? Bool, true, "\(probe)")
        XCTAssertEqual(probe["version"] as? String, "TLSv1.3")

        var insecure = TLSConfiguration.makeClientConfiguration()
        insecure.certificateVerification = .none
        let client = try await TestWebSocketClient.connect(
            port: gateway.port,
            path: "/echo",
            tls: try NIOSSLContext(configuration: insecure),
            serverName: "localhost"
        ).requireUpgraded()
        try await client.sendText("self-signed")
        let reply3 = try await client.receiveText()
        XCTAssertEqual(reply3, "self-signed")
        await client.close()
    }

    func testCertificateReloadChangesNewHandshakesAndKeepsOpenSessions() async throws {
        let first = try self.authority.issue("first", dnsNames: ["localhost", "first.test"])
        let second = try self.authority.issue("second", dnsNames: ["localhost", "second.test"])
        let stranger = try self.authority.issue("stranger")
        let cert = self.authority.directory.appendingPathComponent("served.crt").path
        let key = self.authority.directory.appendingPathComponent("served.key").path
        func serve(_ certificate: String, _ privateKey: String) throws {
            try Data(contentsOf: URL(fileURLWithPath: certificate)).write(to: URL(fileURLWithPath: cert))
            try Data(contentsOf: URL(fileURLWithPath: privateKey)).write(to: URL(fileURLWithPath: key))
        }
        try serve(first.certificatePath, first.keyPath)
        let gateway = try await GatewayHarness.start(
            Self.echoRoutes,
            tls: "{certificates: [{cert: \"\(cert)\", key: \"\(key)\"}], watch_interval: 0}"
        )
        self.gateway = gateway
        let probeArgs = ["--ca", self.authority.caPath, "--server-name", "localhost"]
        let before = try await self.probe(gateway.port, probeArgs)
        XCTAssertEqual(before["peer_dns_names"] as? [String], ["localhost", "first.test"], "\(before)")
        let session = try await self.nioClient(port: gateway.port, path: "/echo")

        try serve(second.certificatePath, second.keyPath)
        try await gateway.gateway.reload()
        let after = try await self.probe(gateway.port, probeArgs)
        XCTAssertEqual(after["peer_dns_names"] as? [String], ["localhost", "second.test"], "\(after)")
        try await session.sendText("still here")
        let reply4 = try await session.receiveText()
        XCTAssertEqual(reply4, "still here")

        // A key that does not match: rejected, the previous pair keeps serving.
        try Data(contentsOf: URL(fileURLWithPath: stranger.keyPath)).write(to: URL(fileURLWithPath: key))
        do {
            try await gateway.gateway.reload()
            XCTFail("a key that does not match its certificate was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("does not match certificate"), "\(error)")
        }
        let kept = try await self.probe(gateway.port, probeArgs)
        XCTAssertEqual(kept["peer_dns_names"] as? [String], ["localhost", "second.test"], "\(kept)")
        try await session.sendText("and still")
        let reply5 = try await session.receiveText()
        XCTAssertEqual(reply5, "and still")
        await session.close()
    }

    /// `tls.watch_interval`: certificate files that change on disk are picked up without a reload call.
    func testChangedCertificateFilesAreServedAfterTheWatchInterval() async throws {
        let first = try self.authority.issue("watched-first", dnsNames: ["localhost", "first.test"])
        let second = try self.authority.issue("watched-second", dnsNames: ["localhost", "second.test"])
        let cert = self.authority.directory.appendingPathComponent("watched.crt").path
        let key = self.authority.directory.appendingPathComponent("watched.key").path
        func serve(_ issued: TestCertificateAuthority.Issued) throws {
            try Data(contentsOf: URL(fileURLWithPath: issued.certificatePath)).write(to: URL(fileURLWithPath: cert))
            try Data(contentsOf: URL(fileURLWithPath: issued.keyPath)).write(to: URL(fileURLWithPath: key))
        }
        try serve(first)
        let gateway = try await GatewayHarness.start(
            Self.echoRoutes,
            tls: "{certificates: [{cert: \"\(cert)\", key: \"\(key)\"}], watch_interval: 100ms}"
        )
        self.gateway = gateway
        let probeArgs = ["--ca", self.authority.caPath, "--server-name", "localhost"]
        let before = try await self.probe(gateway.port, probeArgs)
        XCTAssertEqual(before["peer_dns_names"] as? [String], ["localhost", "first.test"], "\(before)")

        try serve(second)
        var names: [String]?
        for _ in 0..<50 {
            names = try await self.probe(gateway.port, probeArgs)["peer_dns_names"] as? [String]
            if names == ["localhost", "second.test"] { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertEqual(names, ["localhost", "second.test"], "the watcher served the new files")
    }

    /// A NIO client over TLS trusting the test CA (for sessions held open across other checks).
    private func nioClient(port: Int, path: String, headers: [(String, String)] = []) async throws -> TestWebSocketClient {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(self.authority.caPath)
        let context = try NIOSSLContext(configuration: configuration)
        return try await TestWebSocketClient.connect(
            port: port,
            path: path,
            headers: headers,
            tls: context,
            serverName: "localhost"
        )
        .requireUpgraded()
    }
}
