/// The checks of a verified token's claims (RFC 7519 section 4.1) for one route, against a clock the
/// caller passes: `exp` and `nbf` with the leeway, `iss`, `aud` (a string or a list; one of the
/// route's audiences), then each required claim (with no values listed: present). Tokens without `exp` or `nbf` are not limited by them.
struct ClaimsPolicy: Sendable, Equatable {
    var issuer: String?
    var audiences: [String]
    var leewaySeconds: Double
    var requiredClaims: [RequiredClaim]

    init(_ configuration: JWTConfiguration) {
        self.issuer = configuration.issuer
        self.audiences = configuration.audiences
        self.leewaySeconds = configuration.leeway.inSeconds
        self.requiredClaims = configuration.requiredClaims
    }

    /// - Parameter now: seconds since 1970.
    func check(_ claims: TokenClaims, now: Double) throws(AuthFailure) {
        if let exp = claims["exp"] {
            guard let seconds = exp.seconds else { throw .malformedToken }
            if now > seconds + self.leewaySeconds { throw .expired }
        }
        if let nbf = claims["nbf"] {
            guard let seconds = nbf.seconds else { throw .malformedToken }
            if now + self.leewaySeconds < seconds { throw .notYetValid }
        }
        if let issuer = self.issuer, claims["iss"]?.text != issuer {
            throw .wrongIssuer
        }
        if !self.audiences.isEmpty {
            let audiences = claims["aud"]?.texts ?? []
            guard audiences.contains(where: self.audiences.contains) else { throw .wrongAudience }
        }
        for required in self.requiredClaims {
            let values = claims[required.name]?.texts ?? []
            let met = required.values.isEmpty ? !values.isEmpty : values.contains(where: required.values.contains)
            guard met else { throw .claimMismatch(required.name) }
        }
    }
}
