extension UpstreamTLSConfiguration {
    /// `upstreams.<name>.tls`: `nil` when TLS is off (`enabled: false`) or the section is not a mapping.
    static func read(_ node: ConfigurationNode) -> UpstreamTLSConfiguration? {
        node.mapping { mapping in
            let enabled = mapping.read("enabled", Scalar.bool) ?? true
            var configuration = UpstreamTLSConfiguration()
            mapping.read("verify", Scalar.bool, into: &configuration.verify)
            configuration.caFile = mapping.value("ca").flatMap(ConfiguredFile.read)
            configuration.serverName = mapping.read("server_name", Self.parseServerName)
            configuration.clientCertificate = CertificateKeyPair.read(in: mapping, required: false)
            configuration.validate(in: mapping)
            return enabled ? configuration : nil
        } ?? nil
    }

    /// A CA to trust means nothing when nothing is verified.
    func validate(in mapping: ConfigurationMapping) {
        if !self.verify, self.caFile != nil {
            mapping.reject("'ca' has no effect with 'verify: false'", at: .value("ca"), about: ["verify", "ca"])
        }
    }

    private static func parseServerName(_ text: String) throws(ValueSyntaxError) -> String {
        guard !text.isEmpty, !text.contains(where: { $0.isWhitespace || $0 == ":" || $0 == "/" }) else {
            throw ValueSyntaxError("server_name '\(text)' must be a DNS name without port or scheme")
        }
        return text
    }
}
