/// Reading of `listeners[].tls` (and `admin.tls`). Only the shape is checked here; the files are read
/// when the gateway is created, and problems found then are reported at the same lines.
extension ListenerTLSConfiguration {
    /// TLS 1.2 cipher suites that may be named in `ciphers` (OpenSSL names, as BoringSSL knows them).
    /// TLS 1.3 suites are not configurable.
    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
        "AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA", "AES256-SHA",
    ]

    /// The section, or `nil` when it is not a mapping (after reporting why).
    static func read(_ node: ConfigurationNode) -> ListenerTLSConfiguration? {
        node.mapping { mapping in
            var configuration = ListenerTLSConfiguration(certificates: Self.readCertificates(in: mapping) ?? .selfSigned)
            mapping.read("min_version", Self.parseMinimumVersion, into: &configuration.minimumVersion)
            configuration.ciphers = mapping.value("ciphers").flatMap(Self.readCiphers)
            configuration.clientAuthentication = mapping.value("client_auth").flatMap(ClientAuthentication.read)
            mapping.read("watch_interval", Scalar.duration, into: &configuration.watchInterval)
            return configuration
        }
    }

    /// `certificates` or `self_signed: true`, exactly one of them.
    private static func readCertificates(in mapping: ConfigurationMapping) -> Certificates? {
        let files = mapping.value("certificates")
        let selfSigned = mapping.read("self_signed", Scalar.bool)
        switch (files, selfSigned) {
        case (_?, true?):
            mapping.reject(
                "'certificates' and 'self_signed: true' cannot both be set; use one",
                at: .value("certificates"),
                about: []
            )
            return nil
        case (let files?, _):
            return Self.readPairs(files).map(Certificates.files)
        case (nil, true?):
            return .selfSigned
        case (nil, _):
            mapping.reject(
                "missing required key 'certificates' (or 'self_signed: true' for a development certificate)",
                at: .value("certificates"),
                about: ["self_signed"]
            )
            return nil
        }
    }

    private static func readPairs(_ node: ConfigurationNode) -> [CertificateKeyPair]? {
        guard let items = node.sequence() else { return nil }
        guard !items.isEmpty else {
            node.report("at least one certificate is required")
            return nil
        }
        return items.compactMap { item in item.mapping { CertificateKeyPair.read(in: $0, required: true) } ?? nil }
    }

    private static func readCiphers(_ node: ConfigurationNode) -> [String]? {
        guard let items = node.sequence() else { return nil }
        if items.isEmpty {
            node.report("at least one cipher is required when 'ciphers' is set")
        }
        return items.compactMap { $0.value(Self.parseCipher) }
    }

    static func parseMinimumVersion(_ text: String) throws(ValueSyntaxError) -> TLSMinimumVersion {
        if let version = TLSMinimumVersion(rawValue: text) {
            return version
        }
        if ["1.0", "1.1", "1", "1.00", "1.10"].contains(text) {
            throw ValueSyntaxError("TLS \(text) is not accepted (deprecated by RFC 8996); use \"1.2\" or \"1.3\"")
        }
        throw ValueSyntaxError("unknown TLS version '\(text)' (expected \"1.2\" or \"1.3\")")
    }

    static func parseCipher(_ text: String) throws(ValueSyntaxError) -> String {
        if Self.tls12Ciphers.contains(text) {
            return text
        }
        if text.hasPrefix("TLS_AES_") || text.hasPrefix("TLS_CHACHA20_") {
            throw ValueSyntaxError("'\(text)' is a TLS 1.3 suite; TLS 1.3 suites are fixed and cannot be listed")
        }
        let hint =
            text.closestMatch(among: Self.tls12Ciphers).map { "did you mean '\($0)'?" }
            ?? "expected OpenSSL names such as ECDHE-RSA-AES128-GCM-SHA256"
        throw ValueSyntaxError("unknown TLS 1.2 cipher '\(text)' (\(hint))")
    }
}

extension ClientAuthentication {
    /// `listeners[].tls.client_auth`, or `nil` when it is incomplete (after reporting why).
    static func read(_ node: ConfigurationNode) -> ClientAuthentication? {
        node.mapping { mapping in
            let ca = mapping.required("ca").flatMap(ConfiguredFile.read)
            let required = mapping.read("required", Scalar.bool) ?? true
            return ca.map { ClientAuthentication(caFile: $0, required: required) }
        } ?? nil
    }
}

extension CertificateKeyPair {
    /// `cert`, `key` and `key_password_env` in `mapping`. With `required` (a listener's pair) both files
    /// must be written; otherwise (an upstream's optional client certificate) they must come together.
    static func read(in mapping: ConfigurationMapping, required: Bool) -> CertificateKeyPair? {
        let certificate = mapping.value("cert")
        let key = mapping.value("key")
        let password = mapping.value("key_password_env")
        guard required || certificate != nil || key != nil else {
            if password != nil {
                mapping.reject("'key_password_env' needs 'cert' and 'key'", at: .key("key_password_env"), about: [])
            }
            return nil
        }
        if certificate == nil { mapping.reportMissing("cert") }
        if key == nil { mapping.reportMissing("key") }
        let certificateFile = certificate.flatMap(ConfiguredFile.read)
        let keyFile = key.flatMap(ConfiguredFile.read)
        let passwordEnvironment = password?.value(Self.parseEnvironmentName)
        guard let certificateFile, let keyFile else { return nil }
        return CertificateKeyPair(certificate: certificateFile, privateKey: keyFile, keyPasswordEnvironment: passwordEnvironment)
    }

    private static func parseEnvironmentName(_ text: String) throws(ValueSyntaxError) -> String {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }) else {
            throw ValueSyntaxError("'\(text)' is not an environment variable name (letters, digits, '_')")
        }
        return text
    }
}

extension ConfiguredFile {
    /// A file path, kept with the place it was written.
    static func read(_ node: ConfigurationNode) -> ConfiguredFile? {
        guard let path = node.string() else { return nil }
        guard !path.isEmpty else {
            node.report("a file path must not be empty")
            return nil
        }
        return ConfiguredFile(path: path, origin: node.issue(""))
    }
}
