import Foundation
import JWTKit

extension RouteAuthenticator {
    /// Reads the keys of `configuration`'s JWT sources (files, the HMAC secret's environment
    /// variable): blocking I/O, at load and reload, never on an event loop. A JWKS URL is fetched
    /// later, by its first token. `previous` is the route's authenticator before a reload: its
    /// per-subject counts go on.
    ///
    /// - Throws: ``ConfigurationError`` with an issue at each unusable source.
    static func load(
        _ configuration: AuthConfiguration,
        previous: RouteAuthenticator?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> RouteAuthenticator {
        let jwt = try configuration.jwt.map { jwt throws(ConfigurationError) in
            try Self.validator(jwt, environment: environment)
        }
        var subjects: SubjectLimiter?
        if configuration.maxConnectionsPerSubject > 0 || configuration.maxMessagesPerSecondPerSubject > 0 {
            if let kept = previous?.subjects, kept.maxConnections == configuration.maxConnectionsPerSubject,
                kept.maxMessagesPerSecond == configuration.maxMessagesPerSecondPerSubject
            {
                subjects = kept
            } else {
                subjects = SubjectLimiter(
                    maxConnections: configuration.maxConnectionsPerSubject,
                    maxMessagesPerSecond: configuration.maxMessagesPerSecondPerSubject
                )
            }
        }
        return RouteAuthenticator(configuration, jwt: jwt, subjects: subjects)
    }

    /// The HMAC secret's shortest length: RFC 7518 section 3.2 wants a key at least as long as the hash.
    static let minimumSecretBytes = 32

    private static func validator(
        _ jwt: JWTConfiguration,
        environment: [String: String]
    ) throws(ConfigurationError) -> JWTValidator {
        var issues: [ConfigurationIssue] = []
        var keys = JWTKeySet()
        if let file = jwt.keys.jwksFile {
            do throws(JWTKeySet.LoadError) {
                let data = try Self.read(file)
                keys.append(contentsOf: try JWTKeySet.parse(jwks: data, allowed: jwt.algorithms))
            } catch {
                issues.append(file.issue("jwks_file '\(file.path)': \(error.message)"))
            }
        }
        for pem in jwt.keys.pemFiles {
            do throws(JWTKeySet.LoadError) {
                let text = String(decoding: try Self.read(pem.file), as: UTF8.self)
                let material = try JWTKeySet.material(pem: text)
                guard material.algorithms.contains(where: jwt.algorithms.contains) else {
                    throw JWTKeySet.LoadError(message: "a key for none of the allowed algorithms")
                }
                keys.add(material, kid: pem.kid, allowed: jwt.algorithms)
            } catch {
                issues.append(pem.file.issue("pem file '\(pem.file.path)': \(error.message)"))
            }
        }
        if let name = jwt.keys.hmacSecretEnvironment {
            let origin = jwt.keys.hmacSecretOrigin ?? ConfigurationIssue(file: "", line: 0, column: 0, keyPath: "", message: "")
            if let secret = environment[name], secret.utf8.count >= Self.minimumSecretBytes {
                keys.add(.hmac(.init(from: Array(secret.utf8))), kid: nil, allowed: jwt.algorithms)
            } else {
                var issue = origin
                issue.message =
                    environment[name] == nil
                    ? "environment variable \(name) is not set"
                    : "environment variable \(name) holds fewer than \(Self.minimumSecretBytes) bytes (too short for an HMAC key)"
                issues.append(issue)
            }
        }
        guard issues.isEmpty else { throw ConfigurationError(issues: issues) }
        return JWTValidator(
            algorithms: jwt.algorithms,
            localKeys: keys.keys.isEmpty ? nil : JWTKeyRing(keys),
            remoteKeys: jwt.keys.jwksURL.map { RemoteJWKS($0, algorithms: jwt.algorithms) },
            policy: ClaimsPolicy(jwt)
        )
    }

    private static func read(_ file: ConfiguredFile) throws(JWTKeySet.LoadError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: file.path))
        } catch {
            throw JWTKeySet.LoadError(
                message: "cannot be read (\((error as? CocoaError)?.code == .fileReadNoSuchFile ? "no such file" : "\(error)"))"
            )
        }
    }
}
