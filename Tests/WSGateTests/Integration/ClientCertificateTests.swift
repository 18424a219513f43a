import Foundation
import XCTest

@testable import WSGate

/// mTLS on a listener (`tls.client_auth`): verified client certificates are accepted and their
/// subject reaches the upstream in `X-Client-Cert-Subject`; missing or foreign ones end the handshake.
final class ClientCertificateTests: XCTestCase {
    private var authority: TestCertificateAuthority!
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness?

    override func setUp() async throws {
        self.authority = try TestCertificateAuthority()
        self.upstream = try await PeerProcess.pythonEchoServer()
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
        self.authority = nil
    }

    private func start(required: Bool) async throws -> GatewayHarness {
        let server = try self.authority.issue("localhost")
        let gateway = try await GatewayHarness.start(
            """
            upstreams:
              py: {endpoints: [127.0.0.1:\(self.upstream.port)]}
            routes:
              - match: {path_prefix: /}
                upstream: py
            """,
            tls: "{certificates: [{cert: \"\(server.certificatePath)\", key: \"\(server.keyPath)\"}], "
                + "client_auth: {ca: \"\(self.authority.caPath)\", required: \(required)}}"
        )
        self.gateway = gateway
        return gateway
    }

    private func headersSeenUpstream(_ result: [String: Any]) throws -> [String: String] {
        let text = try XCTUnwrap(result["message"] as? String, "\(result)")
        let headers = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["headers"] as? [[String]]
        )
        return Dictionary(headers.map { ($0[0].lowercased(), $0[1]) }, uniquingKeysWith: { "\($0), \($1)" })
    }

    func testVerifiedClientSubjectIsForwarded() async throws {
        let gateway = try await self.start(required: true)
        let client = try self.authority.issue("alice", commonName: "alice", dnsNames: [], ipAddresses: [], clientAuth: true)
        let result = try await runPythonClient(args: [
            "first", "wss://localhost:\(gateway.port)/headers", "--ca", self.authority.caPath,
            "--client-cert", client.certificatePath, "--client-key", client.keyPath,
            "--header", "X-Client-Cert-Subject: CN=forged", "--header", "X_Client_Cert_Subject: CN=forged",
            "--header", "X_Other: kept",
        ])
        let headers = try self.headersSeenUpstream(result)
        XCTAssertEqual(headers["x-client-cert-subject"], "CN=alice,O=wsgate tests")
        XCTAssertNil(headers["x_client_cert_subject"], "an underscore spelling would be folded into the real header by many apps")
        XCTAssertEqual(headers["x_other"], "kept", "other underscore names pass (drop_underscore_headers is off)")
    }

    func testMissingOrForeignClientCertificateIsRefused() async throws {
        let gateway = try await self.start(required: true)
        let base = [
            "127.0.0.1", "\(gateway.port)", "--ca", self.authority.caPath, "--server-name", "localhost", "--await-verdict",
        ]
        let missing = try await runPythonPeer("tls_probe.py", args: base)
        XCTAssertTrue(missing["ok"] as? Bool == false || missing["closed_after_handshake"] as? Bool == true, "\(missing)")

        let foreignAuthority = try TestCertificateAuthority(name: "foreign CA")
        let foreign = try foreignAuthority.issue("mallory", dnsNames: [], ipAddresses: [], clientAuth: true)
        let refused = try await runPythonPeer(
            "tls_probe.py",
            args: base + ["--client-cert", foreign.certificatePath, "--client-key", foreign.keyPath]
        )
        XCTAssertTrue(refused["ok"] as? Bool == false || refused["closed_after_handshake"] as? Bool == true, "\(refused)")

        let handshake = try await runPythonClient(args: [
            "handshake", "wss://localhost:\(gateway.port)/echo", "--ca", self.authority.caPath,
        ])
        XCTAssertEqual(handshake["exit_code"] as? Int, 1, "\(handshake)")
        // Each refusal is a failed TLS handshake of the listener (recorded as the gateway closes it).
        for _ in 0..<100 where (gateway.gateway.failedTLSHandshakes["public"] ?? 0) < 3 {
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(gateway.gateway.failedTLSHandshakes["public"], 3)
    }

    func testOptionalClientCertificate() async throws {
        let gateway = try await self.start(required: false)
        let anonymous = try await runPythonClient(args: [
            "first", "wss://localhost:\(gateway.port)/headers", "--ca", self.authority.caPath,
        ])
        XCTAssertNil(try self.headersSeenUpstream(anonymous)["x-client-cert-subject"])

        let client = try self.authority.issue("bob", commonName: "bob", dnsNames: [], ipAddresses: [], clientAuth: true)
        let named = try await runPythonClient(args: [
            "first", "wss://localhost:\(gateway.port)/headers", "--ca", self.authority.caPath,
            "--client-cert", client.certificatePath, "--client-key", client.keyPath,
        ])
        XCTAssertEqual(try self.headersSeenUpstream(named)["x-client-cert-subject"], "CN=bob,O=wsgate tests")
    }
}
