import NIOCore
import NIOSSL

/// The client TLS context for one upstream's endpoints, built once from its ``UpstreamTLSConfiguration``.
final class UpstreamTLSContext: Sendable {
    let sslContext: NIOSSLContext
    let configuration: UpstreamTLSConfiguration

    /// Reads the CA and client certificate files and builds the context. Blocking: never on an event loop.
    ///
    /// - Parameter applicationProtocols: offered in ALPN: `http/1.1` for `websocket`, `h2` for `websocket-h2`.
    init(
        _ configuration: UpstreamTLSConfiguration,
        applicationProtocols: [String] = ListenerTLSContext.applicationProtocols
    ) throws(ConfigurationError) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.applicationProtocols = applicationProtocols
        if configuration.verify {
            tls.certificateVerification = .fullVerification
            if let caFile = configuration.caFile {
                tls.trustRoots = .certificates(try TLSFileLoader.certificates(caFile, what: "CA"))
            }
        } else {
            tls.certificateVerification = .none
        }
        if let pair = configuration.clientCertificate {
            let loaded = try TLSFileLoader.load(pair)
            tls.certificateChain = loaded.chain.map { .certificate($0) }
            tls.privateKey = .privateKey(loaded.key)
        }
        do {
            self.sslContext = try NIOSSLContext(configuration: tls)
        } catch {
            throw ConfigurationError(issues: [
                ConfigurationIssue(
                    file: "",
                    line: 0,
                    column: 0,
                    keyPath: "",
                    message: "cannot build the upstream TLS context: \(error)"
                )
            ])
        }
        self.configuration = configuration
    }

    /// The name sent in SNI and verified for `endpoint`: `server_name`, else the endpoint's host when it
    /// is a DNS name. `nil` for an IP address, which NIOSSL then checks against the certificate's IP SANs.
    func serverName(for endpoint: SocketAddressSpec) -> String? {
        if let name = self.configuration.serverName { return name }
        let host = endpoint.host
        let isIPAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return isIPAddress ? nil : host
    }
}
