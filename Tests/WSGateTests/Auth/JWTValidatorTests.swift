import Crypto
import Foundation
import JWTKit
import XCTest
import _CryptoExtras

@testable import WSGate

/// JWT validation without I/O: the allow-list, keys chosen by algorithm and kid (no HS/RS confusion,
/// never `none`), signatures, then the claims.
final class JWTValidatorTests: XCTestCase {
    private static let secret = Array("0123456789abcdef0123456789abcdef".utf8)
    private static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    private let now = Date().timeIntervalSince1970

    private func validator(_ algorithms: [JWTAlgorithmName], keys: JWTKeySet) -> JWTValidator {
        JWTValidator(
            algorithms: algorithms,
            localKeys: JWTKeyRing(keys),
            remoteKeys: nil,
            policy: ClaimsPolicy(JWTConfiguration(algorithms: algorithms, keys: JWTKeySources()))
        )
    }

    private func outcome(_ validator: JWTValidator, _ token: String) async -> Result<TokenClaims, AuthFailure> {
        do throws(AuthFailure) {
            return .success(try await validator.validate(token, now: self.now))
        } catch {
            return .failure(error)
        }
    }

    private func claims() -> [String: Any] { ["sub": "alice", "exp": Int(self.now) + 60] }

    func testHS256() async {
        var keys = JWTKeySet()
        keys.add(.hmac(.init(from: Self.secret)), kid: nil, allowed: [.hs256])
        let validator = self.validator([.hs256], keys: keys)
        let token = TestTokens.hs256(self.claims(), secret: Self.secret)
        do {
            let outcome = await self.outcome(validator, token)
            XCTAssertEqual(try? outcome.get()["sub"], .string("alice"))
        }
        let wrong = TestTokens.hs256(self.claims(), secret: Array("another secret of thirty-two bytes".utf8))
        do {
            let outcome = await self.outcome(validator, wrong)
            XCTAssertEqual(outcome, .failure(.badSignature))
        }
    }

    func testES256ByKidAndUnknownKid() async throws {
        let key = P256.Signing.PrivateKey()
        var keys = JWTKeySet()
        keys.add(.p256(try ES256PublicKey(pem: key.publicKey.pemRepresentation)), kid: "k1", allowed: [.es256])
        let validator = self.validator([.es256], keys: keys)
        do {
            let outcome = await self.outcome(validator, try TestTokens.es256(self.claims(), key: key, kid: "k1"))
            XCTAssertEqual(try? outcome.get()["sub"], .string("alice"))
        }
        do {
            let outcome = await self.outcome(validator, try TestTokens.es256(self.claims(), key: key, kid: "k2"))
            XCTAssertEqual(outcome, .failure(.unknownKey))
        }
        do {
            let outcome = await self.outcome(validator, try TestTokens.es256(self.claims(), key: key))
            XCTAssertEqual(outcome, .failure(.unknownKey))
        }
        let other = P256.Signing.PrivateKey()
        do {
            let outcome = await self.outcome(validator, try TestTokens.es256(self.claims(), key: other, kid: "k1"))
            XCTAssertEqual(outcome, .failure(.badSignature))
        }
    }

    func testTamperedPayloadFailsTheSignature() async throws {
        var keys = JWTKeySet()
        keys.add(.rsa(try Insecure.RSA.PublicKey(pem: Self.rsa.publicKey.pemRepresentation)), kid: nil, allowed: [.rs256])
        let validator = self.validator([.rs256], keys: keys)
        let token = try TestTokens.rs256(self.claims(), key: Self.rsa)
        guard case .success = await self.outcome(validator, token) else { return XCTFail("a good RS256 token was refused") }
        var parts = token.split(separator: ".").map(String.init)
        parts[1] = TestTokens.base64URL(TestTokens.json(["sub": "mallory", "exp": Int(self.now) + 60]))
        do {
            let outcome = await self.outcome(validator, parts.joined(separator: "."))
            XCTAssertEqual(outcome, .failure(.badSignature))
        }
    }

    func testAlgNoneIsNeverAccepted() async throws {
        var keys = JWTKeySet()
        keys.add(.hmac(.init(from: Self.secret)), kid: nil, allowed: [.hs256])
        let validator = self.validator([.hs256], keys: keys)
        do {
            let outcome = await self.outcome(validator, TestTokens.none(self.claims()))
            XCTAssertEqual(outcome, .failure(.algorithmNotAllowed("none")))
        }
        XCTAssertNil(JWTAlgorithmName(rawValue: "none"))
    }

    /// The classic confusion: an HS256 token whose "secret" is the RSA public key the gateway holds.
    func testHS256SignedWithThePublicKeyIsRefused() async throws {
        let pem = Self.rsa.publicKey.pemRepresentation
        var keys = JWTKeySet()
        keys.add(.rsa(try Insecure.RSA.PublicKey(pem: pem)), kid: nil, allowed: [.rs256, .hs256])
        let forged = TestTokens.hs256(self.claims(), secret: Array(pem.utf8))
        // Only RS256 allowed: refused by the list.
        do {
            let outcome = await self.outcome(self.validator([.rs256], keys: keys), forged)
            XCTAssertEqual(outcome, .failure(.algorithmNotAllowed("HS256")))
        }
        // Both allowed: the RSA key is no HMAC key, so there is none to check HS256 with.
        do {
            let outcome = await self.outcome(self.validator([.rs256, .hs256], keys: keys), forged)
            XCTAssertEqual(outcome, .failure(.unknownKey))
        }
    }

    func testMalformedTokens() async {
        var keys = JWTKeySet()
        keys.add(.hmac(.init(from: Self.secret)), kid: nil, allowed: [.hs256])
        let validator = self.validator([.hs256], keys: keys)
        for token in ["", "abc", "a.b", "a.b.c", "!!.??.**"] {
            let outcome = await self.outcome(validator, token)
            XCTAssertEqual(outcome, .failure(.malformedToken), token)
        }
    }

    func testJWKSParsingHonoursAlgAndSkipsEncryptionKeys() throws {
        let key = P256.Signing.PrivateKey()
        let raw = key.publicKey.rawRepresentation
        let x = TestTokens.base64URL(raw.prefix(32))
        let y = TestTokens.base64URL(raw.suffix(32))
        let document = """
            {"keys": [
              {"kty": "EC", "crv": "P-256", "kid": "a", "alg": "ES256", "x": "\(x)", "y": "\(y)"},
              {"kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc", "x": "\(x)", "y": "\(y)"},
              {"kty": "oct", "kid": "h", "k": "\(TestTokens.base64URL(Self.secret))"},
              {"kty": "unknown", "kid": "u"}
            ]}
            """
        let set = try JWTKeySet.parse(jwks: Data(document.utf8), allowed: [.es256, .hs256])
        let ring = JWTKeyRing(set)
        XCTAssertTrue(ring.knows(kid: "a", for: .es256))
        XCTAssertFalse(ring.knows(kid: "enc", for: .es256), "an encryption key is not a signing key")
        XCTAssertFalse(ring.knows(kid: "a", for: .hs256), "a key verifies only algorithms of its kind")
        XCTAssertTrue(ring.knows(kid: "h", for: .hs256))
        XCTAssertEqual(set.keys.count, 2)
        XCTAssertThrowsError(try JWTKeySet.parse(jwks: Data("[]".utf8), allowed: [.es256]))
        // A set fetched from a URL never brings a shared secret.
        let remote = JWTKeyRing(try JWTKeySet.parse(jwks: Data(document.utf8), allowed: [.es256, .hs256], secrets: false))
        XCTAssertTrue(remote.knows(kid: "a", for: .es256))
        XCTAssertFalse(remote.knows(kid: "h", for: .hs256), "no oct key from the network")
    }
}
