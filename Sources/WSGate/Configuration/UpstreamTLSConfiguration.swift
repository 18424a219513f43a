/// TLS to an upstream's endpoints (`upstreams.<name>.tls`): `wss://`-style upstream legs.
struct UpstreamTLSConfiguration: Sendable, Equatable {
    /// Whether the endpoint's certificate is verified (chain and host name). Default: `true`;
    /// `false` is logged as a warning at start.
    var verify: Bool
    /// PEM file of the CA certificates to trust instead of the system trust store. Default: the system store.
    var caFile: ConfiguredFile?
    /// The name sent in SNI and checked against the certificate. Default: the endpoint's host when it is
    /// a name; for an IP address endpoint no SNI is sent and the certificate must list that IP address.
    var serverName: String?
    /// A client certificate for mTLS to the upstream. Default: none.
    var clientCertificate: CertificateKeyPair?

    /// Creates an upstream TLS configuration.
    init(
        verify: Bool = true,
        caFile: ConfiguredFile? = nil,
        serverName: String? = nil,
        clientCertificate: CertificateKeyPair? = nil
    ) {
        self.verify = verify
        self.caFile = caFile
        self.serverName = serverName
        self.clientCertificate = clientCertificate
    }
}
