import Foundation
import XCTest

@testable import WSGate

/// `wss://` upstream legs: a Python `websockets` server with TLS behind the gateway, verified
/// against a test CA (accepted), a different CA (refused with 502), or not verified at all.
final class UpstreamTLSTests: XCTestCase {
    private var authority: TestCertificateAuthority!
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness?

    override func setUp() async throws {
        self.authority = try TestCertificateAuthority()
    }

    /// A Python wss:// echo server whose certificate names `upstream.test` and, with `ipAddressSAN`,
    /// also 127.0.0.1 (NIOSSL accepts a certificate listing either the name or the connected IP).
    private func startUpstream(ipAddressSAN: Bool = true, requireClientCertificate: Bool = false) async throws {
        let issued = try self.authority.issue(
            "upstream",
            dnsNames: ["upstream.test"],
            ipAddresses: ipAddressSAN ? [[127, 0, 0, 1]] : []
        )
        var arguments = ["--tls-cert", issued.certificatePath, "--tls-key", issued.keyPath]
        if requireClientCertificate { arguments += ["--tls-client-ca", self.authority.caPath] }
        self.upstream = try await PeerProcess.pythonEchoServer(arguments: arguments)
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
        self.authority = nil
    }

    private func start(
        tls: String,
        ipAddressSAN: Bool = true,
        requireClientCertificate: Bool = false
    ) async throws -> GatewayHarness {
        try await self.startUpstream(ipAddressSAN: ipAddressSAN, requireClientCertificate: requireClientCertificate)
        let gateway = try await GatewayHarness.start(
            """
            upstreams:
              secure:
                endpoints: [127.0.0.1:\(self.upstream.port)]
                tls: \(tls)
            routes:
              - match: {path_prefix: /}
                upstream: secure
            """
        )
        self.gateway = gateway
        return gateway
    }

    func testVerifiedAgainstTheTestCAByIPAddress() async throws {
        let gateway = try await self.start(tls: "{ca: \"\(self.authority.caPath)\"}")
        let result = try await runPythonClient(args: ["echo", "ws://127.0.0.1:\(gateway.port)/echo", "--sizes", "0,1,70000"])
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
    }

    func testVerifiedAgainstTheTestCAByServerName() async throws {
        let gateway = try await self.start(
            tls: "{ca: \"\(self.authority.caPath)\", server_name: upstream.test}",
            ipAddressSAN: false
        )
        let result = try await runPythonClient(args: ["echo", "ws://127.0.0.1:\(gateway.port)/echo"])
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
    }

    /// mTLS toward the upstream: an upstream that requires a client certificate accepts the gateway's
    /// (`tls.cert`/`tls.key`) and refuses a gateway that has none (502 to the client).
    func testClientCertificateTowardAnUpstreamThatRequiresOne() async throws {
        let client = try self.authority.issue("gateway-client", dnsNames: ["gateway.test"], clientAuth: true)
        let gateway = try await self.start(
            tls: "{ca: \"\(self.authority.caPath)\", cert: \"\(client.certificatePath)\", key: \"\(client.keyPath)\"}",
            requireClientCertificate: true
        )
        let result = try await runPythonClient(args: ["echo", "ws://127.0.0.1:\(gateway.port)/echo", "--sizes", "0,1,70000"])
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
        await gateway.stop()
        self.upstream.stop()

        let without = try await self.start(tls: "{ca: \"\(self.authority.caPath)\"}", requireClientCertificate: true)
        let refused = try await TestWebSocketClient.connect(port: without.port, path: "/echo")
        XCTAssertEqual(refused.status, 502)
    }

    func testWrongServerNameIsRefused() async throws {
        let gateway = try await self.start(
            tls: "{ca: \"\(self.authority.caPath)\", server_name: other.test}",
            ipAddressSAN: false
        )
        let result = try await runPythonClient(args: ["handshake", "ws://127.0.0.1:\(gateway.port)/echo"])
        XCTAssertEqual(result["status"] as? Int, 502, "\(result)")
    }

    func testVerificationFailsAgainstAWrongCA() async throws {
        let other = try TestCertificateAuthority(name: "another CA")
        let gateway = try await self.start(tls: "{ca: \"\(other.caPath)\"}")
        let result = try await runPythonClient(args: ["handshake", "ws://127.0.0.1:\(gateway.port)/echo"])
        XCTAssertEqual(result["status"] as? Int, 502, "\(result)")
        XCTAssertEqual((result["body"] as? String)?.contains("upstream unavailable"), true, "\(result)")
    }

    func testVerifyFalseAcceptsAnyCertificate() async throws {
        let gateway = try await self.start(tls: "{verify: false}")
        let result = try await runPythonClient(args: ["echo", "ws://127.0.0.1:\(gateway.port)/echo"])
        XCTAssertEqual(result["ok"] as? Bool, true, "\(result)")
    }

    func testPlainUpstreamLegToATLSServerFails() async throws {
        try await self.startUpstream()
        let gateway = try await GatewayHarness.start(
            """
            upstreams:
              plain: {endpoints: [127.0.0.1:\(self.upstream.port)], connect_timeout: 2s}
            routes:
              - match: {path_prefix: /}
                upstream: plain
            """
        )
        self.gateway = gateway
        let result = try await runPythonClient(args: ["handshake", "ws://127.0.0.1:\(gateway.port)/echo"])
        XCTAssertEqual(result["status"] as? Int, 502, "\(result)")
    }
}
