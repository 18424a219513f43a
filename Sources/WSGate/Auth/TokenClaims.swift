import JWTKit

/// A verified token's payload, every claim kept. jwt-kit checks the signature; the registered claims
/// are checked by ``ClaimsPolicy`` with the gateway's clock, so that no check depends on jwt-kit's
/// claim types.
struct TokenClaims: JWTPayload, Equatable {
    var claims: [String: ClaimValue]

    init(_ claims: [String: ClaimValue]) {
        self.claims = claims
    }

    init(from decoder: any Decoder) throws {
        self.claims = try [String: ClaimValue](from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try self.claims.encode(to: encoder)
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}

    subscript(_ name: String) -> ClaimValue? { self.claims[name] }
}
