import Crypto
import Foundation
import _CryptoExtras

@testable import WSGate

/// Compact JWS tokens signed with swift-crypto directly (not jwt-kit), for the unit tests; the
/// integration tests use PyJWT.
enum TestTokens {
    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func json(_ object: [String: Any]) -> Data {
        try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// `header.payload` of a token.
    static func signingInput(alg: String, kid: String?, claims: [String: Any]) -> String {
        var header: [String: Any] = ["alg": alg, "typ": "JWT"]
        if let kid { header["kid"] = kid }
        return self.base64URL(self.json(header)) + "." + self.base64URL(self.json(claims))
    }

    static func hs256(_ claims: [String: Any], secret: [UInt8], kid: String? = nil) -> String {
        let input = self.signingInput(alg: "HS256", kid: kid, claims: claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: secret))
        return input + "." + self.base64URL(Data(mac))
    }

    static func es256(_ claims: [String: Any], key: P256.Signing.PrivateKey, kid: String? = nil) throws -> String {
        let input = self.signingInput(alg: "ES256", kid: kid, claims: claims)
        let signature = try key.signature(for: Array(input.utf8))
        return input + "." + self.base64URL(signature.rawRepresentation)
    }

    static func rs256(_ claims: [String: Any], key: _RSA.Signing.PrivateKey, kid: String? = nil) throws -> String {
        let input = self.signingInput(alg: "RS256", kid: kid, claims: claims)
        let signature = try key.signature(for: Array(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + self.base64URL(signature.rawRepresentation)
    }

    /// An unsigned token (`alg: none`, empty signature).
    static func none(_ claims: [String: Any]) -> String {
        self.signingInput(alg: "none", kid: nil, claims: claims) + "."
    }
}
