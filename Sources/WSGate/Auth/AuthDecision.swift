import NIOHTTP1

/// What a route's authentication decided about one request head (``RouteAuthenticator``).
enum AuthDecision: Sendable {
    case admit(AuthAdmission)
    case refuse(AuthFailure)
}

/// An admitted client: who it is, until when, and what the upstream request carries because of it.
struct AuthAdmission: Sendable {
    /// The subject (`auth.subject_claim`), for the access log, `/stats/connections` and the
    /// per-subject limits; `nil` when the token has none or only forward auth ran.
    var subject: String?
    /// When a live session is closed (1008): the token's `exp` plus `expiry_grace`, in seconds since
    /// 1970; `nil` when the token has no `exp`.
    var closesAt: Double?
    /// Fields the gateway adds upstream (claims, the raw token, forward auth's answer headers);
    /// ``ForwardingPolicy`` drops the client's own copies of these names and of ``reservedNames``.
    var upstreamHeaders: [(String, String)]
    /// The canonical names of every header the route sets from authentication, present or not.
    var reservedNames: Set<String>
    /// Where the token was, so it is left out upstream.
    var token: PresentedToken?
    /// The subject's connection slot, when the route limits connections per subject.
    var lease: SubjectLease?

    /// The client's header fields as they go upstream (before ``ForwardingPolicy``).
    func forwardedHeaders(_ headers: HTTPHeaders) -> HTTPHeaders {
        self.token?.removed(from: headers) ?? headers
    }

    /// The upstream request target.
    func forwardedPath(_ target: String) -> String {
        self.token?.removed(fromPath: target) ?? target
    }

    /// The subprotocols offered upstream.
    func forwardedSubprotocols(_ offered: [String]) -> [String] {
        self.token?.removed(fromSubprotocols: offered) ?? offered
    }
}
