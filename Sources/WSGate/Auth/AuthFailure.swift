import NIOHTTP1

/// Why a client was refused at the edge: the reason counted on `/stats` and `/metrics`, written to
/// the access log, and the answer the client gets. Never carries the token.
enum AuthFailure: Error, Sendable, Equatable {
    case missingToken
    /// Not a compact JWS, or its header or payload is not JSON.
    case malformedToken
    /// `alg` is not on the route's list (`none` never is).
    case algorithmNotAllowed(String)
    /// No key of that algorithm under that `kid`.
    case unknownKey
    case badSignature
    case expired
    case notYetValid
    case wrongIssuer
    case wrongAudience
    /// A required claim is missing or has none of the accepted values (403).
    case claimMismatch(String)
    /// The JWKS URL has not answered within `max_stale` of its last good answer (503).
    case keysUnavailable
    /// The forward-auth endpoint refused: its answer goes to the client as it is.
    case forwardAuthRefused(HTTPAnswer)
    /// The forward-auth endpoint timed out, failed or answered something else (503).
    case forwardAuthUnavailable
    /// The subject already has `auth.limits.max_connections` connections (503).
    case subjectLimit

    static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.algorithmNotAllowed(let a), .algorithmNotAllowed(let b)): return a == b
        case (.claimMismatch(let a), .claimMismatch(let b)): return a == b
        case (.forwardAuthRefused(let a), .forwardAuthRefused(let b)): return a.status == b.status && a.body == b.body
        default: return lhs.reason == rhs.reason
        }
    }

    /// The label counted under `auth.refused` and in `wsgate_auth_refusals_total{reason}`.
    var reason: String {
        switch self {
        case .missingToken: return "missing_token"
        case .malformedToken: return "malformed_token"
        case .algorithmNotAllowed: return "algorithm_not_allowed"
        case .unknownKey: return "unknown_key"
        case .badSignature: return "bad_signature"
        case .expired: return "expired"
        case .notYetValid: return "not_yet_valid"
        case .wrongIssuer: return "wrong_issuer"
        case .wrongAudience: return "wrong_audience"
        case .claimMismatch: return "claim_mismatch"
        case .keysUnavailable: return "keys_unavailable"
        case .forwardAuthRefused: return "forward_auth_refused"
        case .forwardAuthUnavailable: return "forward_auth_unavailable"
        case .subjectLimit: return "subject_max_connections"
        }
    }

    /// What the client is told: the status, a short text (also the access log's reason) and the headers.
    var rejection: (status: HTTPResponseStatus, message: String, headers: [(String, String)]) {
        let challenge = { (description: String) in
            [("WWW-Authenticate", "Bearer error=\"invalid_token\", error_description=\"\(description)\"")]
        }
        switch self {
        case .missingToken: return (.unauthorized, "authentication required", challenge("no token"))
        case .malformedToken: return (.unauthorized, "invalid token (malformed)", challenge("malformed"))
        case .algorithmNotAllowed:
            return (.unauthorized, "invalid token (algorithm not allowed)", challenge("algorithm not allowed"))
        case .unknownKey: return (.unauthorized, "invalid token (unknown key)", challenge("unknown key"))
        case .badSignature: return (.unauthorized, "invalid token (signature)", challenge("signature"))
        case .expired: return (.unauthorized, "invalid token (expired)", challenge("expired"))
        case .notYetValid: return (.unauthorized, "invalid token (not yet valid)", challenge("not yet valid"))
        case .wrongIssuer: return (.unauthorized, "invalid token (issuer)", challenge("issuer"))
        case .wrongAudience: return (.unauthorized, "invalid token (audience)", challenge("audience"))
        case .claimMismatch(let claim):
            return (
                .forbidden, "token claim '\(claim)' does not allow this route",
                [("WWW-Authenticate", "Bearer error=\"insufficient_scope\"")]
            )
        case .keysUnavailable: return (.serviceUnavailable, "token keys unavailable (issuer unreachable)", [("Retry-After", "5")])
        case .forwardAuthRefused(let answer):
            return (answer.status, "refused by forward auth (\(answer.status.code))", answer.headers)
        case .forwardAuthUnavailable: return (.serviceUnavailable, "forward auth unavailable", [("Retry-After", "1")])
        case .subjectLimit:
            return (.serviceUnavailable, "connection limit reached (auth.limits.max_connections)", [("Retry-After", "1")])
        }
    }
}
