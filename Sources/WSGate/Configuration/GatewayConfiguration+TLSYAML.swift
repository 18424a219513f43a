import Yams

/// Decodes the `tls` sections of listeners and upstreams. Only the shape is checked here; the files
/// are read when the gateway is created, and problems found then are reported at the same lines.
struct TLSYAMLDecoder {
    static let listenerKeys = ["certificates", "self_signed", "min_version", "ciphers", "client_auth", "watch_interval"]
    static let pairKeys = ["cert", "key", "key_password_env"]
    static let clientAuthKeys = ["ca", "required"]
    static let upstreamKeys = ["enabled", "verify", "ca", "server_name", "cert", "key", "key_password_env"]

    /// TLS 1.2 cipher suites that may be named in `ciphers` (OpenSSL names, as BoringSSL knows them).
    /// TLS 1.3 suites are not configurable.
    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
        "AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA", "AES256-SHA",
    ]

    // MARK: - Listeners

    /// `listeners[].tls`, or `nil` when it is invalid (after reporting why).
    static func decodeListenerTLS(
        _ node: Node,
        at path: ConfigurationKeyPath,
        context: inout YAMLDecodingContext
    ) -> ListenerTLSConfiguration? {
        guard let mapping = context.mapping(node, at: path, knownKeys: Self.listenerKeys) else { return nil }
        var valid = true

        let selfSigned = mapping["self_signed"].flatMap { context.value($0, at: path.appending("self_signed"), Self.parseBool) }
        if mapping["self_signed"] != nil, selfSigned == nil { valid = false }
        var certificates: ListenerTLSConfiguration.Certificates?
        switch (mapping["certificates"], selfSigned) {
        case (let node?, true?):
            context.report(
                "'certificates' and 'self_signed: true' cannot both be set; use one",
                at: node,
                path: path.appending("certificates")
            )
            valid = false
        case (let node?, _):
            let pairs = self.decodePairs(node, at: path.appending("certificates"), context: &context)
            if let pairs { certificates = .files(pairs) } else { valid = false }
        case (nil, true?):
            certificates = .selfSigned
        case (nil, _):
            if selfSigned != nil || mapping["self_signed"] == nil {
                context.report(
                    "missing required key 'certificates' (or 'self_signed: true' for a development certificate)",
                    at: mapping.node,
                    path: path.appending("certificates")
                )
            }
            valid = false
        }

        var configuration = ListenerTLSConfiguration(certificates: certificates ?? .selfSigned)
        if let node = mapping["min_version"] {
            if let version = context.value(node, at: path.appending("min_version"), Self.parseMinimumVersion) {
                configuration.minimumVersion = version
            } else {
                valid = false
            }
        }
        if let node = mapping["ciphers"] {
            let ciphersPath = path.appending("ciphers")
            if let items = context.sequence(node, at: ciphersPath) {
                if items.isEmpty {
                    context.report("at least one cipher is required when 'ciphers' is set", at: node, path: ciphersPath)
                    valid = false
                }
                var ciphers: [String] = []
                for (index, item) in items.enumerated() {
                    if let cipher = context.value(item, at: ciphersPath.appending(index: index), Self.parseCipher) {
                        ciphers.append(cipher)
                    } else {
                        valid = false
                    }
                }
                configuration.ciphers = ciphers
            } else {
                valid = false
            }
        }
        if let node = mapping["watch_interval"] {
            if let interval = context.value(node, at: path.appending("watch_interval"), DurationParsing.parse) {
                configuration.watchInterval = interval
            } else {
                valid = false
            }
        }
        if let node = mapping["client_auth"] {
            if let clientAuth = self.decodeClientAuth(node, at: path.appending("client_auth"), context: &context) {
                configuration.clientAuthentication = clientAuth
            } else {
                valid = false
            }
        }
        return valid ? configuration : nil
    }

    private static func decodePairs(
        _ node: Node,
        at path: ConfigurationKeyPath,
        context: inout YAMLDecodingContext
    ) -> [CertificateKeyPair]? {
        guard let items = context.sequence(node, at: path) else { return nil }
        if items.isEmpty {
            context.report("at least one certificate is required", at: node, path: path)
            return nil
        }
        var pairs: [CertificateKeyPair] = []
        for (index, item) in items.enumerated() {
            let itemPath = path.appending(index: index)
            guard let mapping = context.mapping(item, at: itemPath, knownKeys: Self.pairKeys),
                let pair = self.decodePair(in: mapping, at: itemPath, context: &context, required: true)
            else { continue }
            pairs.append(pair)
        }
        return pairs.count == items.count ? pairs : nil
    }

    /// `cert`, `key` and `key_password_env` in `mapping`; both files are required when `required`
    /// (a listener's pair), and must come together otherwise (an upstream's optional client certificate).
    private static func decodePair(
        in mapping: YAMLMapping,
        at path: ConfigurationKeyPath,
        context: inout YAMLDecodingContext,
        required: Bool
    ) -> CertificateKeyPair? {
        if !required, mapping["cert"] == nil, mapping["key"] == nil {
            if let node = mapping.keyNode("key_password_env") {
                context.report("'key_password_env' needs 'cert' and 'key'", at: node, path: path.appending("key_password_env"))
            }
            return nil
        }
        let certificate = context.required("cert", in: mapping).flatMap {
            self.file($0, at: path.appending("cert"), context: &context)
        }
        let key = context.required("key", in: mapping).flatMap {
            self.file($0, at: path.appending("key"), context: &context)
        }
        var passwordEnvironment: String?
        if let node = mapping["key_password_env"] {
            passwordEnvironment = context.value(node, at: path.appending("key_password_env"), Self.parseEnvironmentName)
            if passwordEnvironment == nil { return nil }
        }
        guard let certificate, let key else { return nil }
        return CertificateKeyPair(certificate: certificate, privateKey: key, keyPasswordEnvironment: passwordEnvironment)
    }

    private static func decodeClientAuth(
        _ node: Node,
        at path: ConfigurationKeyPath,
        context: inout YAMLDecodingContext
    ) -> ClientAuthentication? {
        guard let mapping = context.mapping(node, at: path, knownKeys: Self.clientAuthKeys) else { return nil }
        let ca = context.required("ca", in: mapping).flatMap { self.file($0, at: path.appending("ca"), context: &context) }
        var required = true
        if let node = mapping["required"] {
            guard let value = context.value(node, at: path.appending("required"), Self.parseBool) else { return nil }
            required = value
        }
        return ca.map { ClientAuthentication(caFile: $0, required: required) }
    }

    // MARK: - Upstreams

    /// `upstreams.<name>.tls`: `nil` when TLS is off (`enabled: false`) or the section is invalid.
    static func decodeUpstreamTLS(
        _ node: Node,
        at path: ConfigurationKeyPath,
        context: inout YAMLDecodingContext
    ) -> UpstreamTLSConfiguration? {
        guard let mapping = context.mapping(node, at: path, knownKeys: Self.upstreamKeys) else { return nil }
        var enabled = true
        if let node = mapping["enabled"] {
            guard let value = context.value(node, at: path.appending("enabled"), Self.parseBool) else { return nil }
            enabled = value
        }
        var configuration = UpstreamTLSConfiguration()
        var valid = true
        if let node = mapping["verify"] {
            if let verify = context.value(node, at: path.appending("verify"), Self.parseBool) {
                configuration.verify = verify
            } else {
                valid = false
            }
        }
        if let node = mapping["ca"] {
            configuration.caFile = self.file(node, at: path.appending("ca"), context: &context)
            if configuration.caFile == nil { valid = false }
            if configuration.verify == false {
                context.report("'ca' has no effect with 'verify: false'", at: node, path: path.appending("ca"))
                valid = false
            }
        }
        if let node = mapping["server_name"] {
            configuration.serverName = context.value(node, at: path.appending("server_name"), Self.parseServerName)
            if configuration.serverName == nil { valid = false }
        }
        let hasPair = mapping["cert"] != nil || mapping["key"] != nil || mapping["key_password_env"] != nil
        configuration.clientCertificate = self.decodePair(in: mapping, at: path, context: &context, required: false)
        if hasPair, configuration.clientCertificate == nil { valid = false }
        return valid && enabled ? configuration : nil
    }

    // MARK: - Scalars

    private static func file(_ node: Node, at path: ConfigurationKeyPath, context: inout YAMLDecodingContext) -> ConfiguredFile? {
        guard let text = context.string(node, at: path) else { return nil }
        guard !text.isEmpty else {
            context.report("a file path must not be empty", at: node, path: path)
            return nil
        }
        let mark = node.mark
        let origin = ConfigurationIssue(
            file: context.file,
            line: mark?.line ?? 0,
            column: mark?.column ?? 0,
            keyPath: path.description,
            message: ""
        )
        return ConfiguredFile(path: text, origin: origin)
    }

    static func parseBool(_ text: String) throws(ValueSyntaxError) -> Bool {
        switch text {
        case "true": return true
        case "false": return false
        default: throw ValueSyntaxError("expected true or false, found '\(text)'")
        }
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

    private static func parseEnvironmentName(_ text: String) throws(ValueSyntaxError) -> String {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }) else {
            throw ValueSyntaxError("'\(text)' is not an environment variable name (letters, digits, '_')")
        }
        return text
    }

    private static func parseServerName(_ text: String) throws(ValueSyntaxError) -> String {
        guard !text.isEmpty, !text.contains(where: { $0.isWhitespace || $0 == ":" || $0 == "/" }) else {
            throw ValueSyntaxError("server_name '\(text)' must be a DNS name without port or scheme")
        }
        return text
    }
}
