import Foundation
import Logging
import NIOPosix
import XCTest

@testable import WSGate

/// The `tls` sections: decoding (every mistake reported at its line) and the start-up checks of
/// the files they name (missing, not PEM, key not matching), which stop the gateway before it listens.
final class TLSConfigurationTests: XCTestCase {
    private static func issues(_ yaml: String) -> [String] {
        do {
            _ = try GatewayConfiguration.parse(yaml: yaml, file: "t.yaml")
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    func testDecodesListenerAndUpstreamTLS() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                listeners:
                  - name: secure
                    address: 127.0.0.1:8443
                    tls:
                      certificates:
                        - {cert: a.crt, key: a.key}
                        - {cert: b.crt, key: b.key, key_password_env: B_PASSWORD}
                      min_version: "1.3"
                      ciphers: [ECDHE-RSA-AES128-GCM-SHA256]
                      client_auth: {ca: clients.pem, required: false}
                  - name: dev
                    address: 127.0.0.1:8444
                    tls: {self_signed: true}
                upstreams:
                  secure:
                    endpoints: [app.internal:9443]
                    tls: {ca: ca.pem, server_name: app.example, cert: me.crt, key: me.key}
                  unverified:
                    endpoints: [127.0.0.1:9443]
                    tls: {verify: false}
                  plain:
                    endpoints: [127.0.0.1:9001]
                    tls: {enabled: false}
                """,
            file: "t.yaml"
        )
        let secure = try XCTUnwrap(configuration.listeners[0].tls)
        guard case .files(let pairs) = secure.certificates else { return XCTFail("\(secure)") }
        XCTAssertEqual(pairs.map(\.certificate.path), ["a.crt", "b.crt"])
        XCTAssertEqual(pairs[1].keyPasswordEnvironment, "B_PASSWORD")
        XCTAssertEqual(pairs[1].privateKey.issue("x").description, "t.yaml:7:30: listeners[0].tls.certificates[1].key: x")
        XCTAssertEqual(secure.minimumVersion, .tls13)
        XCTAssertEqual(secure.ciphers, ["ECDHE-RSA-AES128-GCM-SHA256"])
        XCTAssertEqual(secure.clientAuthentication?.required, false)
        XCTAssertEqual(configuration.listeners[1].tls?.certificates, .selfSigned)
        XCTAssertEqual(configuration.listeners[1].tls?.minimumVersion, .tls12)

        let upstream = try XCTUnwrap(configuration.upstreams["secure"]?.tls)
        XCTAssertEqual(upstream.verify, true)
        XCTAssertEqual(upstream.caFile?.path, "ca.pem")
        XCTAssertEqual(upstream.serverName, "app.example")
        XCTAssertEqual(upstream.clientCertificate?.certificate.path, "me.crt")
        XCTAssertEqual(configuration.upstreams["unverified"]?.tls?.verify, false)
        XCTAssertNil(configuration.upstreams["plain"]?.tls)
    }

    func testReportsTLSMistakesAtTheirLines() {
        XCTAssertEqual(
            Self.issues(
                """
                listeners:
                  - address: 127.0.0.1:8443
                    tls:
                      min_version: "1.1"
                      ciphers: [ECDHE-RSA-AES128-GCM-SHA265, TLS_AES_128_GCM_SHA256]
                      client_auth: {required: maybe}
                  - address: 127.0.0.1:8444
                    tls: {self_signed: true, certificates: [{cert: a.crt}]}
                  - address: 127.0.0.1:8445
                    tls: {certificates: [], sni: x}
                upstreams:
                  a:
                    endpoints: [127.0.0.1:9001]
                    tls: {verify: no, ca: x.pem, key_password_env: P}
                  e:
                    protocol: echo
                    tls: {}
                """
            ),
            [
                "t.yaml:4:7: listeners[0].tls.certificates: missing required key 'certificates' "
                    + "(or 'self_signed: true' for a development certificate)",
                "t.yaml:4:20: listeners[0].tls.min_version: TLS 1.1 is not accepted (deprecated by RFC 8996); use \"1.2\" or \"1.3\"",
                "t.yaml:5:17: listeners[0].tls.ciphers[0]: unknown TLS 1.2 cipher 'ECDHE-RSA-AES128-GCM-SHA265' "
                    + "(did you mean 'ECDHE-RSA-AES128-GCM-SHA256'?)",
                "t.yaml:5:46: listeners[0].tls.ciphers[1]: 'TLS_AES_128_GCM_SHA256' is a TLS 1.3 suite; "
                    + "TLS 1.3 suites are fixed and cannot be listed",
                "t.yaml:6:20: listeners[0].tls.client_auth.ca: missing required key 'ca'",
                "t.yaml:6:31: listeners[0].tls.client_auth.required: expected true or false, found 'maybe'",
                "t.yaml:8:44: listeners[1].tls.certificates: 'certificates' and 'self_signed: true' cannot both be set; use one",
                "t.yaml:10:25: listeners[2].tls.certificates: at least one certificate is required",
                "t.yaml:10:29: listeners[2].tls.sni: unknown key "
                    + "(valid keys: certificates, self_signed, min_version, ciphers, client_auth, watch_interval)",
                "t.yaml:14:19: upstreams.a.tls.verify: expected true or false, found 'no'",
                "t.yaml:14:34: upstreams.a.tls.key_password_env: 'key_password_env' needs 'cert' and 'key'",
                "t.yaml:17:5: upstreams.e.tls: an echo upstream takes no tls",
            ]
        )
    }

    // MARK: - Files, checked when the gateway is created

    private func gatewayIssues(_ tls: String) -> [String] {
        let yaml = """
            listeners:
              - address: 127.0.0.1:0
                tls: \(tls)
            admin: {address: 127.0.0.1:0}
            """
        do {
            let configuration = try GatewayConfiguration.parse(yaml: yaml, file: "t.yaml")
            _ = try Gateway(
                configuration: configuration,
                group: MultiThreadedEventLoopGroup.singleton,
                logger: Logger(label: "test")
            )
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    func testMissingUnreadableAndMismatchedFilesAreNamed() throws {
        let authority = try TestCertificateAuthority()
        let good = try authority.issue("good")
        let other = try authority.issue("other")
        let missing = authority.directory.appendingPathComponent("missing.crt").path
        XCTAssertEqual(
            self.gatewayIssues("{certificates: [{cert: \"\(missing)\", key: \"\(good.keyPath)\"}]}"),
            ["t.yaml:3:33: listeners[0].tls.certificates[0].cert: cannot read certificate file \(missing): no such file"]
        )
        let notACertificate = self.gatewayIssues("{certificates: [{cert: \"\(good.keyPath)\", key: \"\(good.keyPath)\"}]}")
        XCTAssertEqual(notACertificate.count, 1)
        XCTAssertTrue(
            notACertificate[0].hasPrefix("t.yaml:3:33: listeners[0].tls.certificates[0].cert: certificate file \(good.keyPath) "),
            "\(notACertificate)"
        )
        let mismatch = self.gatewayIssues("{certificates: [{cert: \"\(good.certificatePath)\", key: \"\(other.keyPath)\"}]}")
        XCTAssertEqual(mismatch.count, 1)
        XCTAssertTrue(
            mismatch[0].contains(
                "listeners[0].tls.certificates[0].key: private key \(other.keyPath) does not match certificate \(good.certificatePath)"
            ),
            "\(mismatch)"
        )
        let notAKey = self.gatewayIssues(
            "{certificates: [{cert: \"\(good.certificatePath)\", key: \"\(good.certificatePath)\"}]}"
        )
        XCTAssertTrue(notAKey.first?.contains("is not a usable PEM private key") == true, "\(notAKey)")
        XCTAssertEqual(self.gatewayIssues("{certificates: [{cert: \"\(good.certificatePath)\", key: \"\(good.keyPath)\"}]}"), [])
        XCTAssertEqual(self.gatewayIssues("{self_signed: true}"), [])
    }

    func testEncryptedKeyNeedsItsPassphraseFromTheEnvironment() async throws {
        let authority = try TestCertificateAuthority()
        let issued = try authority.issue("encrypted")
        let encrypted = authority.directory.appendingPathComponent("encrypted.enc.key").path
        let openssl = try await PeerProcess.runProcess(
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [
                "openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:s3cret", "-in", issued.keyPath, "-out",
                encrypted,
            ],
            timeout: .seconds(30)
        )
        XCTAssertEqual(openssl.status, 0, openssl.stderr)
        let variable = "WSGATE_TEST_KEY_PASSWORD_\(getpid())"
        let pair = "{cert: \"\(issued.certificatePath)\", key: \"\(encrypted)\", key_password_env: \(variable)}"

        let unset = self.gatewayIssues("{certificates: [\(pair)]}")
        XCTAssertEqual(unset.count, 1)
        XCTAssertTrue(unset[0].hasSuffix("environment variable \(variable) (key_password_env) is not set"), "\(unset)")
        // Without key_password_env the key is refused at once (BoringSSL must not prompt on stdin).
        let noPassword = self.gatewayIssues("{certificates: [{cert: \"\(issued.certificatePath)\", key: \"\(encrypted)\"}]}")
        XCTAssertTrue(noPassword.first?.hasSuffix("an encrypted key needs key_password_env") == true, "\(noPassword)")

        setenv(variable, "wrong", 1)
        defer { unsetenv(variable) }
        let wrong = self.gatewayIssues("{certificates: [\(pair)]}")
        XCTAssertTrue(wrong.first?.hasSuffix("wrong passphrase?") == true, "\(wrong)")
        setenv(variable, "s3cret", 1)
        XCTAssertEqual(self.gatewayIssues("{certificates: [\(pair)]}"), [])
    }

    /// Issue 11, finding 9: a reload rebuilds a `self_signed` listener's context with the new
    /// settings and keeps only the generated certificate.
    func testReloadKeepsTheSelfSignedCertificateAndRebuildsTheContext() throws {
        let authority = try TestCertificateAuthority()
        func configuration(_ tls: ListenerTLSConfiguration) -> GatewayConfiguration {
            GatewayConfiguration(listeners: [
                ListenerConfiguration(name: "dev", address: SocketAddressSpec(host: "127.0.0.1", port: 0), tls: tls)
            ])
        }
        let first = try ActiveConfiguration(configuration(ListenerTLSConfiguration(certificates: .selfSigned)))
        var withClientAuth = ListenerTLSConfiguration(certificates: .selfSigned)
        withClientAuth.clientAuthentication = ClientAuthentication(caFile: ConfiguredFile(path: authority.caPath), required: true)
        let second = try ActiveConfiguration(configuration(withClientAuth), previous: first)
        let (old, new) = (try XCTUnwrap(first.listenerTLS["dev"]), try XCTUnwrap(second.listenerTLS["dev"]))
        XCTAssertFalse(old.sslContext === new.sslContext, "the context must be rebuilt with client_auth")
        XCTAssertEqual(new.selfSigned?.chain, old.selfSigned?.chain)
        XCTAssertNotNil(new.selfSigned)
    }

    func testShippedConfigurationLoadsWithItsDevelopmentCertificate() throws {
        let root = PeerProcess.repositoryRoot.appendingPathComponent("config/wsgate.yaml").path
        let configuration = try GatewayConfiguration.load(contentsOf: root)
        XCTAssertEqual(configuration.listeners.map(\.address.description), ["127.0.0.1:8080", "127.0.0.1:8443"])
        XCTAssertEqual(configuration.listeners[1].tls?.certificates, .selfSigned)
        XCTAssertNoThrow(
            try Gateway(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
        )
    }
}
