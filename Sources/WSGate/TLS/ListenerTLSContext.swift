import NIOCore
import NIOSSL

/// A TLS listener's server context, built once from its ``ListenerTLSConfiguration`` (reading and
/// checking every file) and shared by all its connections.
///
/// With several certificates the context carries a per-handshake callback that swaps in the chain
/// and key the client's SNI name selects (``ServerNameSelector``); with one there is no callback.
final class ListenerTLSContext: Sendable {
    let sslContext: NIOSSLContext
    /// The generated certificate of a `self_signed` listener, which a reload keeps (clients that
    /// accepted it once need not accept a new one) while it rebuilds the context around it.
    let selfSigned: TLSFileLoader.LoadedPair?

    /// ALPN protocols of an HTTP/1.1-only listener (and of a `websocket` upstream).
    static let applicationProtocols = ["http/1.1"]
    /// ALPN protocols of a listener that serves HTTP/2 (`http2.enabled`), `h2` preferred (RFC 7301:
    /// the server picks by its own order among what the client offers).
    static let http2ApplicationProtocols = ["h2", "http/1.1"]

    /// Reads the files and builds the context. Blocking disk I/O: never call on an event loop.
    ///
    /// - Parameter previous: the listener's context before a reload; a `self_signed` listener takes
    ///   over its generated certificate. Every other setting (client_auth, versions, ciphers) is
    ///   built afresh from `configuration`.
    /// - Parameter offersHTTP2: whether ALPN offers `h2` (the listener's `http2.enabled`).
    /// - Throws: ``ConfigurationError`` with one issue per unusable file, at the line naming it.
    init(
        _ configuration: ListenerTLSConfiguration,
        offersHTTP2: Bool = false,
        previous: ListenerTLSContext? = nil
    ) throws(ConfigurationError) {
        var pairs: [TLSFileLoader.LoadedPair] = []
        var selfSigned: TLSFileLoader.LoadedPair?
        switch configuration.certificates {
        case .selfSigned:
            do {
                let generated = try previous?.selfSigned ?? Self.generatePair()
                selfSigned = generated
                pairs = [generated]
            } catch {
                throw ConfigurationError(issues: [
                    ConfigurationIssue(
                        file: "self_signed",
                        line: 0,
                        column: 0,
                        keyPath: "",
                        message: "cannot generate the self-signed certificate: \(error)"
                    )
                ])
            }
        case .files(let files):
            var issues: [ConfigurationIssue] = []
            for file in files {
                do throws(ConfigurationError) {
                    pairs.append(try TLSFileLoader.load(file))
                } catch {
                    issues += error.issues
                }
            }
            guard issues.isEmpty else { throw ConfigurationError(issues: issues) }
        }

        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: pairs[0].chain.map { .certificate($0) },
            privateKey: .privateKey(pairs[0].key)
        )
        tls.minimumTLSVersion = configuration.minimumVersion == .tls13 ? .tlsv13 : .tlsv12
        if let ciphers = configuration.ciphers {
            tls.cipherSuites = ciphers.joined(separator: ":")
        }
        tls.applicationProtocols = offersHTTP2 ? Self.http2ApplicationProtocols : Self.applicationProtocols
        if let clientAuth = configuration.clientAuthentication {
            let roots = try TLSFileLoader.certificates(clientAuth.caFile, what: "client CA")
            tls.trustRoots = .certificates(roots)
            tls.certificateVerification = clientAuth.required ? .noHostnameVerification : .optionalVerification
            tls.sendCANameList = true
        }
        let selector = ServerNameSelector(namesByCertificate: pairs.map(\.dnsNames))
        if pairs.count > 1 {
            let overrides = pairs.map { pair in
                var override = NIOSSLContextConfigurationOverride()
                override.certificateChain = pair.chain.map { .certificate($0) }
                override.privateKey = .privateKey(pair.key)
                return override
            }
            tls.sslContextCallback = { values, promise in
                let index = selector.certificateIndex(for: values.serverHostname)
                promise.succeed(index == 0 ? .noChanges : overrides[index])
            }
        }
        self.selfSigned = selfSigned
        do {
            self.sslContext = try NIOSSLContext(configuration: tls)
        } catch {
            let origin: ConfigurationIssue
            if case .files(let files) = configuration.certificates {
                origin = files[0].certificate.issue("")
            } else {
                origin = ConfigurationIssue(file: "self_signed", line: 0, column: 0, keyPath: "", message: "")
            }
            var issue = origin
            issue.message = "cannot build the TLS context: \(error)"
            throw ConfigurationError(issues: [issue])
        }
    }

    private static func generatePair() throws -> TLSFileLoader.LoadedPair {
        let generated = try SelfSignedCertificate.make()
        return TLSFileLoader.LoadedPair(
            chain: [generated.certificate],
            key: generated.key,
            dnsNames: SelfSignedCertificate.dnsNames
        )
    }
}
