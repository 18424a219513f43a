/// A route's `auth`: who may open a connection, how that is checked at the edge, and what the
/// upstream learns of it. The check runs before the upstream is dialled.
struct AuthConfiguration: Sendable, Equatable {
    /// JWT validation. Default: `nil`, no token is checked (forward auth alone may decide).
    var jwt: JWTConfiguration?
    /// A subrequest to the app that decides. Default: `nil`.
    var forwardAuth: ForwardAuthConfiguration?
    /// Where the token is looked for, in this order. Default: the `Authorization: Bearer` header.
    var tokenSources: [TokenSource] = [.bearer]
    /// Claims sent upstream as headers, in file order (`sub` → `X-User-Id`). Default: none.
    var claimHeaders: [ClaimHeader] = []
    /// The header that carries the raw token upstream. Default: `nil`, the token is not forwarded.
    var tokenHeader: String?
    /// The claim that names the subject (access log, per-subject limits). Default: `sub`.
    var subjectClaim = "sub"
    /// How long a live session may outlast its token's `exp`. Default: 0.
    var expiryGrace: Duration = .zero
    /// Per-subject limits across all of the gateway's loops; 0 is no limit.
    var maxConnectionsPerSubject = 0
    var maxMessagesPerSecondPerSubject = 0

    /// The canonical names (``ASCII``-lowercased, `_` read as `-`) of every header the route sets
    /// upstream from authentication: a client's own copies are always dropped.
    var upstreamHeaderNames: Set<String> {
        var names = self.claimHeaders.map(\.header)
        names += self.tokenHeader.map { [$0] } ?? []
        names += self.forwardAuth?.responseHeaders ?? []
        return Set(names.map { String($0.lowercased().map { $0 == "_" ? "-" : $0 }) })
    }
}

/// One claim sent upstream as a header.
struct ClaimHeader: Sendable, Equatable {
    var claim: String
    var header: String
}

/// A place a client's token is read from.
enum TokenSource: Sendable, Equatable, CustomStringConvertible {
    /// `Authorization: Bearer <token>`.
    case bearer
    /// The cookie of this name.
    case cookie(String)
    /// The query parameter of this name (removed from the forwarded path).
    case query(String)
    /// The `Sec-WebSocket-Protocol` entry that starts with this prefix (not offered upstream).
    case subprotocol(prefix: String)

    var description: String {
        switch self {
        case .bearer: return "bearer"
        case .cookie(let name): return "cookie \(name)"
        case .query(let name): return "query \(name)"
        case .subprotocol(let prefix): return "subprotocol \(prefix)"
        }
    }
}

/// The JWT algorithms a route may accept (`none` is not one of them).
enum JWTAlgorithmName: String, Sendable, CaseIterable {
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case ps384 = "PS384"
    case ps512 = "PS512"
    case es256 = "ES256"
    case es384 = "ES384"
    case es512 = "ES512"
    case eddsa = "EdDSA"
    case hs256 = "HS256"
    case hs384 = "HS384"
    case hs512 = "HS512"

    /// Whether the algorithm is an HMAC (a shared secret, not a public key).
    var isHMAC: Bool { self.rawValue.hasPrefix("HS") }
}

/// `auth.jwt`: how a token is validated.
struct JWTConfiguration: Sendable, Equatable {
    /// The algorithms accepted; a token naming another (`none` included) is refused.
    var algorithms: [JWTAlgorithmName]
    /// Where the verification keys come from.
    var keys: JWTKeySources
    /// The `iss` the token must carry. Default: `nil`, not checked.
    var issuer: String?
    /// One of these must be in the token's `aud`. Default: empty, not checked.
    var audiences: [String] = []
    /// Clock skew allowed on `exp` and `nbf`. Default: 30 s.
    var leeway: Duration = .seconds(30)
    /// Claims that must be present with one of the listed values, in file order.
    var requiredClaims: [RequiredClaim] = []
}

/// A claim that must equal one of `values` (for a list claim: contain one of them).
struct RequiredClaim: Sendable, Equatable {
    var name: String
    var values: [String]
}

/// The key sources of `auth.jwt`; at least one is set.
struct JWTKeySources: Sendable, Equatable {
    /// `jwks_file`: a JWK Set read at load and reload.
    var jwksFile: ConfiguredFile?
    /// `pem_files`: public keys (RSA, EC or Ed25519 `PUBLIC KEY` PEM), each with an optional `kid`.
    var pemFiles: [PEMKeyFile] = []
    /// `hmac_secret_env`: the environment variable holding the HMAC secret.
    var hmacSecretEnvironment: String?
    /// Where `hmac_secret_env` was written, for an error about the variable.
    var hmacSecretOrigin: ConfigurationIssue?
    /// `jwks_url`: a JWK Set fetched over HTTP(S).
    var jwksURL: JWKSURLConfiguration?
}

/// A PEM public key file and the `kid` tokens name it by (none: the key of tokens without a `kid`).
struct PEMKeyFile: Sendable, Equatable {
    var file: ConfiguredFile
    var kid: String?
}

/// `jwks_url` and how its keys are kept.
struct JWKSURLConfiguration: Sendable, Equatable {
    var url: String
    /// How often the set is fetched again. Default: 5 minutes.
    var refreshInterval: Duration = .seconds(300)
    /// How long keys are used after the last successful fetch while the issuer is down. Default: 1 hour.
    var maxStale: Duration = .seconds(3600)
    /// Bound on one fetch. Default: 5 s.
    var timeout: Duration = .seconds(5)
}

/// `auth.forward_auth`: a subrequest to the app decides.
struct ForwardAuthConfiguration: Sendable, Equatable {
    /// The auth endpoint, `http://host:port/path`.
    var url: String
    /// Client request headers sent with the subrequest. Default: `Authorization` and `Cookie`.
    var requestHeaders: [String] = ["Authorization", "Cookie"]
    /// Headers of a 2xx answer copied to the upstream request. Default: none.
    var responseHeaders: [String] = []
    /// Bound on the subrequest; past it the client gets 503. Default: 2 s.
    var timeout: Duration = .seconds(2)
    /// How long an answer is reused for the same credentials. Default: 0, never.
    var cacheTTL: Duration = .zero
}
