import NIOHTTP1
import XCTest

@testable import WSGate

/// The claim checks of a verified token with a clock the test sets: exp/nbf with the leeway, iss,
/// aud as a string or a list, required claims.
final class ClaimsPolicyTests: XCTestCase {
    private let now = 1_800_000_000.0

    private func policy(
        issuer: String? = nil,
        audiences: [String] = [],
        leeway: Duration = .seconds(30),
        required: [RequiredClaim] = []
    ) -> ClaimsPolicy {
        var jwt = JWTConfiguration(algorithms: [.es256], keys: JWTKeySources())
        jwt.issuer = issuer
        jwt.audiences = audiences
        jwt.leeway = leeway
        jwt.requiredClaims = required
        return ClaimsPolicy(jwt)
    }

    private func failure(_ policy: ClaimsPolicy, _ claims: [String: ClaimValue]) -> AuthFailure? {
        do throws(AuthFailure) {
            try policy.check(TokenClaims(claims), now: self.now)
            return nil
        } catch {
            return error
        }
    }

    func testExpiryWithLeeway() {
        let policy = self.policy()
        XCTAssertNil(self.failure(policy, ["exp": .number(self.now + 1)]))
        XCTAssertNil(self.failure(policy, ["exp": .number(self.now - 29)]), "within the leeway")
        XCTAssertEqual(self.failure(policy, ["exp": .number(self.now - 31)]), .expired)
        XCTAssertEqual(self.failure(policy, ["exp": .string("tomorrow")]), .malformedToken)
        XCTAssertNil(self.failure(policy, [:]), "no exp: not limited by it")
    }

    func testNotBeforeWithLeeway() {
        let policy = self.policy(leeway: .zero)
        XCTAssertNil(self.failure(policy, ["nbf": .number(self.now)]))
        XCTAssertEqual(self.failure(policy, ["nbf": .number(self.now + 5)]), .notYetValid)
        XCTAssertNil(self.failure(self.policy(leeway: .seconds(10)), ["nbf": .number(self.now + 5)]))
    }

    func testIssuer() {
        let policy = self.policy(issuer: "https://issuer.example")
        XCTAssertNil(self.failure(policy, ["iss": .string("https://issuer.example")]))
        XCTAssertEqual(self.failure(policy, ["iss": .string("https://evil.example")]), .wrongIssuer)
        XCTAssertEqual(self.failure(policy, [:]), .wrongIssuer)
    }

    func testAudienceStringOrList() {
        let policy = self.policy(audiences: ["chat", "api"])
        XCTAssertNil(self.failure(policy, ["aud": .string("chat")]))
        XCTAssertNil(self.failure(policy, ["aud": .array([.string("other"), .string("api")])]))
        XCTAssertEqual(self.failure(policy, ["aud": .string("other")]), .wrongAudience)
        XCTAssertEqual(self.failure(policy, [:]), .wrongAudience)
    }

    func testRequiredClaimsExactValuesOrLists() {
        let policy = self.policy(required: [
            RequiredClaim(name: "role", values: ["admin", "editor"]),
            RequiredClaim(name: "email_verified", values: ["true"]),
            RequiredClaim(name: "tenant", values: []),
        ])
        let good: [String: ClaimValue] = ["role": .string("editor"), "email_verified": .bool(true), "tenant": .string("acme")]
        XCTAssertNil(self.failure(policy, good))
        var list = good
        list["role"] = .array([.string("viewer"), .string("admin")])
        XCTAssertNil(self.failure(policy, list))
        var wrong = good
        wrong["role"] = .string("viewer")
        XCTAssertEqual(self.failure(policy, wrong), .claimMismatch("role"))
        var missing = good
        missing["tenant"] = nil
        XCTAssertEqual(self.failure(policy, missing), .claimMismatch("tenant"))
        XCTAssertEqual(AuthFailure.claimMismatch("role").rejection.status, .forbidden)
    }

    func testAnswersOfABadOrMissingToken() {
        for failure in [AuthFailure.missingToken, .badSignature, .expired, .algorithmNotAllowed("none")] {
            let (status, _, headers) = failure.rejection
            XCTAssertEqual(status, .unauthorized)
            XCTAssertTrue(headers.contains { $0.0 == "WWW-Authenticate" && $0.1.hasPrefix("Bearer error=\"invalid_token\"") })
        }
    }
}
