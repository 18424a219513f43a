import Foundation

/// The two fields of a JWT's protected header the gateway decides on before any key is touched:
/// `alg` (must be on the route's allow-list; `none` never is) and `kid` (which key).
struct JOSEHeader: Sendable, Equatable, Decodable {
    var alg: String
    var kid: String?

    /// Reads the first of a compact JWS's three base64url parts (an empty signature, as `alg: none`
    /// has, is the algorithm check's to refuse); `nil` when the token is not a JWS.
    static func parse(_ token: String) -> JOSEHeader? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty,
            let data = Self.base64URLDecoded(parts[0])
        else { return nil }
        return try? JSONDecoder().decode(JOSEHeader.self, from: data)
    }

    static func base64URLDecoded(_ text: Substring) -> Data? {
        guard text.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "-" || $0 == "_" }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
