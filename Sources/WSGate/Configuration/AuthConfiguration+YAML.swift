import Yams

extension AuthConfiguration {
    /// A route's `auth`; `nil` when it is not a mapping (after reporting why).
    static func read(_ node: ConfigurationNode) -> AuthConfiguration? {
        node.mapping { mapping in
            var auth = AuthConfiguration()
            auth.jwt = mapping.value("jwt").flatMap(JWTConfiguration.read)
            auth.forwardAuth = mapping.value("forward_auth").flatMap(ForwardAuthConfiguration.read)
            if let sources = mapping.value("token_sources") {
                auth.tokenSources = Self.readTokenSources(sources)
            }
            auth.claimHeaders = mapping.value("claim_headers").map(Self.readClaimHeaders) ?? []
            auth.tokenHeader = mapping.read("token_header", Self.parseHeaderName)
            mapping.read("subject_claim", Self.parseClaimName, into: &auth.subjectClaim)
            mapping.read("expiry_grace", Scalar.duration, into: &auth.expiryGrace)
            if let limits = mapping.value("limits") {
                limits.mapping { limits in
                    limits.read("max_connections", Scalar.wholeNumber, into: &auth.maxConnectionsPerSubject)
                    limits.read("max_messages_per_second", Scalar.wholeNumber, into: &auth.maxMessagesPerSecondPerSubject)
                }
            }
            if auth.jwt == nil, auth.forwardAuth == nil, !mapping.contains("jwt"), !mapping.contains("forward_auth") {
                mapping.reject("auth needs 'jwt' or 'forward_auth'", about: [])
            }
            if auth.jwt == nil, !auth.claimHeaders.isEmpty, !mapping.contains("jwt") {
                mapping.reject("claim_headers needs 'jwt' (claims come from a token)", at: .key("claim_headers"), about: [])
            }
            return auth
        }
    }

    /// Each entry: `bearer`, or one of `cookie: NAME`, `query: NAME`, `subprotocol: PREFIX`.
    private static func readTokenSources(_ node: ConfigurationNode) -> [TokenSource] {
        guard let items = node.sequence() else { return [.bearer] }
        if items.isEmpty {
            node.report("at least one token source is required")
        }
        return items.compactMap { item -> TokenSource? in
            if item.node.scalar != nil {
                guard let text = item.string() else { return nil }
                guard text == "bearer" else {
                    item.report(
                        "unknown token source '\(text)' (expected bearer, cookie: NAME, query: NAME or subprotocol: PREFIX)"
                    )
                    return nil
                }
                return .bearer
            }
            guard let entries = item.entries() else { return nil }
            guard entries.count == 1, let entry = entries.first else {
                item.report("a token source is one of bearer, cookie: NAME, query: NAME or subprotocol: PREFIX")
                return nil
            }
            guard let name = entry.value.string(), !name.isEmpty, name.isHTTPToken else {
                entry.value.report("must be a non-empty token (letters, digits and !#$%&'*+-.^_`|~)")
                return nil
            }
            switch entry.key {
            case "cookie": return .cookie(name)
            case "query": return .query(name)
            case "subprotocol": return .subprotocol(prefix: name)
            default:
                node.reader.report(
                    "unknown token source '\(entry.key)' (expected bearer, cookie, query or subprotocol)",
                    at: entry.keyNode,
                    path: entry.value.path
                )
                return nil
            }
        }
    }

    private static func readClaimHeaders(_ node: ConfigurationNode) -> [ClaimHeader] {
        node.entries()?.compactMap { entry in
            entry.value.value(Self.parseHeaderName).map { ClaimHeader(claim: entry.key, header: $0) }
        } ?? []
    }

    static func parseHeaderName(_ text: String) throws(ValueSyntaxError) -> String {
        guard text.isHTTPToken else { throw ValueSyntaxError("'\(text)' is not a valid header name") }
        return text
    }

    private static func parseClaimName(_ text: String) throws(ValueSyntaxError) -> String {
        guard !text.isEmpty else { throw ValueSyntaxError("a claim name must not be empty") }
        return text
    }
}

extension JWTConfiguration {
    /// `auth.jwt`.
    static func read(_ node: ConfigurationNode) -> JWTConfiguration? {
        node.mapping { mapping in
            let algorithms = mapping.required("algorithms").map(Self.readAlgorithms) ?? []
            var keys = JWTKeySources()
            keys.jwksFile = mapping.value("jwks_file").flatMap(ConfiguredFile.read)
            keys.pemFiles = mapping.value("pem_files").map(Self.readPEMFiles) ?? []
            if let node = mapping.value("hmac_secret_env") {
                keys.hmacSecretEnvironment = node.value(Self.parseEnvironmentName)
                keys.hmacSecretOrigin = node.issue("")
            }
            keys.jwksURL = mapping.value("jwks_url").flatMap(JWKSURLConfiguration.read)
            var jwt = JWTConfiguration(algorithms: algorithms, keys: keys)
            jwt.issuer = mapping.value("issuer").flatMap { $0.string() }
            jwt.audiences = mapping.value("audiences").map(Self.readStrings) ?? []
            mapping.read("leeway", Scalar.duration, into: &jwt.leeway)
            jwt.requiredClaims = mapping.value("required_claims").map(Self.readRequiredClaims) ?? []
            jwt.validate(in: mapping)
            return jwt
        }
    }

    /// A key source for each kind of algorithm allowed, and no HMAC secret without an HMAC algorithm.
    func validate(in mapping: ConfigurationMapping) {
        let sources = ["jwks_file", "pem_files", "hmac_secret_env", "jwks_url"]
        guard sources.contains(where: mapping.contains) else {
            mapping.reject("jwt needs a key source: one of \(sources.joined(separator: ", "))", about: sources)
            return
        }
        let allowsHMAC = self.algorithms.contains(where: \.isHMAC)
        let allowsPublicKeys = self.algorithms.contains { !$0.isHMAC }
        if allowsHMAC, self.keys.hmacSecretEnvironment == nil, self.keys.jwksFile == nil {
            mapping.reject(
                "HS* algorithms need 'hmac_secret_env' (or an oct key in jwks_file)",
                at: .value("algorithms"),
                about: ["algorithms", "hmac_secret_env", "jwks_file"]
            )
        }
        if !allowsHMAC, self.keys.hmacSecretEnvironment != nil {
            mapping.reject(
                "'hmac_secret_env' needs an HS* algorithm in 'algorithms'",
                at: .key("hmac_secret_env"),
                about: ["algorithms", "hmac_secret_env"]
            )
        }
        if allowsPublicKeys, self.keys.pemFiles.isEmpty, self.keys.jwksFile == nil, self.keys.jwksURL == nil {
            mapping.reject(
                "public-key algorithms need 'pem_files', 'jwks_file' or 'jwks_url'",
                at: .value("algorithms"),
                about: ["algorithms", "pem_files", "jwks_file", "jwks_url"]
            )
        }
    }

    private static func readAlgorithms(_ node: ConfigurationNode) -> [JWTAlgorithmName] {
        guard let items = node.sequence() else { return [] }
        if items.isEmpty {
            node.report("at least one algorithm is required")
        }
        return items.compactMap { item in item.value(Self.parseAlgorithm) }
    }

    private static func parseAlgorithm(_ text: String) throws(ValueSyntaxError) -> JWTAlgorithmName {
        guard text.lowercased() != "none" else {
            throw ValueSyntaxError("'none' is never accepted (unsigned tokens)")
        }
        return try Scalar.named(JWTAlgorithmName.self, "algorithm")(text)
    }

    private static func readPEMFiles(_ node: ConfigurationNode) -> [PEMKeyFile] {
        node.sequence()?.compactMap { item -> PEMKeyFile? in
            if item.node.scalar != nil {
                return ConfiguredFile.read(item).map { PEMKeyFile(file: $0, kid: nil) }
            }
            return item.mapping { mapping -> PEMKeyFile? in
                let file = mapping.required("file").flatMap(ConfiguredFile.read)
                let kid = mapping.value("kid").flatMap { $0.string() }
                return file.map { PEMKeyFile(file: $0, kid: kid) }
            } ?? nil
        } ?? []
    }

    private static func readStrings(_ node: ConfigurationNode) -> [String] {
        if node.node.scalar != nil { return node.string().map { [$0] } ?? [] }
        return node.sequence()?.compactMap { $0.string() } ?? []
    }

    private static func readRequiredClaims(_ node: ConfigurationNode) -> [RequiredClaim] {
        node.entries()?.map { entry in RequiredClaim(name: entry.key, values: Self.readStrings(entry.value)) } ?? []
    }

    private static func parseEnvironmentName(_ text: String) throws(ValueSyntaxError) -> String {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }) else {
            throw ValueSyntaxError("'\(text)' is not an environment variable name")
        }
        return text
    }
}

extension JWKSURLConfiguration {
    /// `jwks_url`: the URL alone, or a mapping with `url` and its timings.
    static func read(_ node: ConfigurationNode) -> JWKSURLConfiguration? {
        if node.node.scalar != nil {
            return node.value(Self.parseURL).map { JWKSURLConfiguration(url: $0) }
        }
        return node.mapping { mapping -> JWKSURLConfiguration? in
            guard let url = mapping.required("url")?.value(Self.parseURL) else { return nil }
            var configuration = JWKSURLConfiguration(url: url)
            mapping.read("refresh_interval", Scalar.positiveDuration, into: &configuration.refreshInterval)
            mapping.read("max_stale", Scalar.positiveDuration, into: &configuration.maxStale)
            mapping.read("timeout", Scalar.positiveDuration, into: &configuration.timeout)
            return configuration
        } ?? nil
    }

    /// `http://` or `https://` and a host.
    static func parseURL(_ text: String) throws(ValueSyntaxError) -> String {
        let rest =
            text.hasPrefix("https://") ? text.dropFirst(8) : text.hasPrefix("http://") ? text.dropFirst(7) : nil
        guard let rest, !rest.isEmpty, !rest.hasPrefix("/"), !text.contains(where: \.isWhitespace) else {
            throw ValueSyntaxError("'\(text)' must be an http:// or https:// URL")
        }
        return text
    }
}

extension ForwardAuthConfiguration {
    /// `auth.forward_auth`.
    static func read(_ node: ConfigurationNode) -> ForwardAuthConfiguration? {
        node.mapping { mapping -> ForwardAuthConfiguration? in
            guard let url = mapping.required("url")?.value(JWKSURLConfiguration.parseURL) else { return nil }
            var configuration = ForwardAuthConfiguration(url: url)
            if let headers = mapping.value("request_headers") {
                configuration.requestHeaders =
                    headers.sequence()?.compactMap { $0.value(AuthConfiguration.parseHeaderName) } ?? []
            }
            if let headers = mapping.value("response_headers") {
                configuration.responseHeaders =
                    headers.sequence()?.compactMap { $0.value(AuthConfiguration.parseHeaderName) } ?? []
            }
            mapping.read("timeout", Scalar.positiveDuration, into: &configuration.timeout)
            mapping.read("cache_ttl", Scalar.duration, into: &configuration.cacheTTL)
            if configuration.cacheTTL > .zero, configuration.requestHeaders.isEmpty {
                mapping.reject(
                    "cache_ttl needs request_headers (the cache is kept per their values; without any, one client's answer would serve all)",
                    at: .key("cache_ttl"),
                    about: ["cache_ttl", "request_headers"]
                )
            }
            return configuration
        } ?? nil
    }
}
