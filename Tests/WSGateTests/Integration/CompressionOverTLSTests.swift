import Foundation
import XCTest

@testable import WSGate

/// permessage-deflate terminated behind TLS termination (`wss://`), in both memory modes, with the
/// clients we did not write (Python `websockets`, Node `ws`) and a plain upstream leg (Python
/// `websockets` server without compression), messages from 0 B to 16 MiB.
final class CompressionOverTLSTests: XCTestCase {
    private var authority: TestCertificateAuthority!
    private var upstream: PeerProcess!
    private var gateway: GatewayHarness!

    override func setUp() async throws {
        self.authority = try TestCertificateAuthority()
        let certificate = try self.authority.issue("localhost")
        self.upstream = try await PeerProcess.pythonEchoServer()
        self.gateway = try await GatewayHarness.start(
            """
            upstreams:
              py:
                endpoints: [127.0.0.1:\(self.upstream.port)]
            routes:
              - name: dedicated
                match: {path_prefix: /dedicated/}
                upstream: py
                rewrite_prefix: /
              - name: shared
                match: {path_prefix: /shared/}
                upstream: py
                rewrite_prefix: /
                compression: {context_takeover: false}
            defaults:
              limits: {max_message: 32MiB}
              compression: {min_size: 16}
            """,
            tls: "{certificates: [{cert: \"\(certificate.certificatePath)\", key: \"\(certificate.keyPath)\"}]}"
        )
    }

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
        self.authority = nil
    }

    private var url: String { "wss://localhost:\(self.gateway.port)" }
    private let sizes = "0,1,125,126,65535,65536,1048576,16777216"

    func testPythonClientOverTLSInBothModes() async throws {
        for (mode, extensions) in [
            ("dedicated", "permessage-deflate"),
            ("shared", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ] {
            let result = try await runPythonClient(
                args: [
                    "echo", "\(self.url)/\(mode)/echo", "--ca", self.authority.caPath, "--compression", "--sizes", self.sizes,
                    "--timeout", "120",
                ],
                timeout: .seconds(400)
            )
            XCTAssertEqual(result["exit_code"] as? Int, 0, "\(mode): \(result)")
            XCTAssertEqual(result["messages"] as? Int, 16, mode)
            XCTAssertEqual(result["extensions"] as? String, extensions, mode)
            XCTAssertEqual(result["tls_version"] as? String, "TLSv1.3", mode)
        }
    }

    func testNodeClientOverTLSInBothModes() async throws {
        for (mode, extensions) in [
            ("dedicated", "permessage-deflate"),
            ("shared", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ] {
            let result = try await runNodeClient(
                args: ["\(self.url)/\(mode)/echo", "--ca", self.authority.caPath, "--sizes", self.sizes, "--timeout", "300"],
                timeout: .seconds(400)
            )
            XCTAssertEqual(result["exit_code"] as? Int, 0, "\(mode): \(result)")
            XCTAssertEqual(result["messages"] as? Int, 16, mode)
            XCTAssertEqual(result["extensions"] as? String, extensions, mode)
        }
    }
}
