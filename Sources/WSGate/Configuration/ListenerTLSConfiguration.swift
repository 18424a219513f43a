/// TLS termination on a listener (`listeners[].tls`): the certificates it serves, the protocol versions
/// and TLS 1.2 cipher suites it accepts, and optional client certificates (mTLS).
///
/// Only paths are held here; the files are read and checked when the gateway is created
/// (``Gateway/init(configuration:group:logger:)``), off the event loops.
struct ListenerTLSConfiguration: Sendable, Equatable {
    /// Where the served certificates come from.
    enum Certificates: Sendable, Equatable {
        /// PEM files; the client's SNI picks one by its subject alternative names, the first is the fallback.
        case files([CertificateKeyPair])
        /// A self-signed development certificate for `localhost`, `127.0.0.1` and `::1`, generated at start-up.
        case selfSigned
    }

    /// The certificates to serve. Required in YAML: `certificates` or `self_signed: true`.
    var certificates: Certificates
    /// The lowest TLS version accepted. Default: TLS 1.2. TLS 1.0 and 1.1 are never accepted.
    var minimumVersion: TLSMinimumVersion
    /// TLS 1.2 cipher suites (OpenSSL names), in order of preference; `nil` keeps swift-nio-ssl's secure
    /// default list (ECDHE with AEAD first). TLS 1.3 suites are fixed by BoringSSL.
    var ciphers: [String]?
    /// Client certificate verification (mTLS). Default: none asked for.
    var clientAuthentication: ClientAuthentication?
    /// How often the certificate, key and CA files are checked for changes (size, modification time);
    /// a change reloads them as SIGHUP does. `.zero` disables. Default: 60 s.
    var watchInterval: Duration

    /// The watch interval used when the configuration does not set one: 60 seconds.
    static let defaultWatchInterval = Duration.seconds(60)

    /// Creates a listener TLS configuration, without validation.
    init(
        certificates: Certificates,
        minimumVersion: TLSMinimumVersion = .tls12,
        ciphers: [String]? = nil,
        clientAuthentication: ClientAuthentication? = nil,
        watchInterval: Duration = ListenerTLSConfiguration.defaultWatchInterval
    ) {
        self.certificates = certificates
        self.minimumVersion = minimumVersion
        self.ciphers = ciphers
        self.clientAuthentication = clientAuthentication
        self.watchInterval = watchInterval
    }
}

/// The lowest TLS version a listener accepts (`min_version`). TLS 1.0 and 1.1 are deprecated (RFC 8996)
/// and have no case here.
enum TLSMinimumVersion: String, Sendable, Equatable, CaseIterable {
    /// TLS 1.2 and 1.3 (`"1.2"`, the default).
    case tls12 = "1.2"
    /// TLS 1.3 only (`"1.3"`).
    case tls13 = "1.3"
}

/// Client certificate verification on a listener (`listeners[].tls.client_auth`).
struct ClientAuthentication: Sendable, Equatable {
    /// PEM file of the CA certificates that client certificates must chain to. Required.
    var caFile: ConfiguredFile
    /// Whether a client without a certificate is refused. Default: `true`. A presented certificate that
    /// fails verification ends the handshake either way.
    var required: Bool

    /// Creates a client authentication configuration.
    init(caFile: ConfiguredFile, required: Bool = true) {
        self.caFile = caFile
        self.required = required
    }
}

/// A certificate chain and its private key, both PEM files (`{cert, key}`).
struct CertificateKeyPair: Sendable, Equatable {
    /// The certificate file: the leaf first, then any intermediates.
    var certificate: ConfiguredFile
    /// The private key file (RSA or ECDSA; PKCS#1, SEC1 or PKCS#8).
    var privateKey: ConfiguredFile
    /// The name of an environment variable holding the key's passphrase, for an encrypted key.
    var keyPasswordEnvironment: String?

    /// Creates a pair.
    init(certificate: ConfiguredFile, privateKey: ConfiguredFile, keyPasswordEnvironment: String? = nil) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.keyPasswordEnvironment = keyPasswordEnvironment
    }
}

/// A file path from the configuration with the place it was written, so a problem found when the
/// file is read (missing, unreadable, not PEM, key not matching) is reported at that line.
struct ConfiguredFile: Sendable, Equatable, CustomStringConvertible {
    /// The path as written; a relative path is relative to the working directory.
    var path: String
    /// Where the path was written, for error messages (no position when built in code).
    var origin: ConfigurationIssue

    /// Creates a file reference; `origin` defaults to an issue naming only the path.
    init(path: String, origin: ConfigurationIssue? = nil) {
        self.path = path
        self.origin = origin ?? ConfigurationIssue(file: path, line: 0, column: 0, keyPath: "", message: "")
    }

    var description: String { self.path }

    /// An issue at the place the path was written, e.g. `wsgate.yaml:7:15: listeners[0].tls.certificates[0].key: ...`.
    func issue(_ message: String) -> ConfigurationIssue {
        var issue = self.origin
        issue.message = message
        return issue
    }
}
