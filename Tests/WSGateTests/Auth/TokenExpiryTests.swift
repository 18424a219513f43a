import Foundation
import NIOHTTP1
import XCTest

@testable import WSGate

/// When an admitted token's session ends: at `exp` + `expiry_grace`, and never before the leeway that
/// let the token in has passed.
final class TokenExpiryTests: XCTestCase {
    private static let secret = "0123456789abcdef0123456789abcdef"
    /// Read when a test runs (XCTest makes every test's instance when the run starts).
    private var now: Double { Date().timeIntervalSince1970 }

    private func closesAt(exp: Int, grace: Duration, leeway: Duration) async throws -> Double? {
        var jwt = JWTConfiguration(algorithms: [.hs256], keys: JWTKeySources())
        jwt.keys.hmacSecretEnvironment = "SECRET"
        jwt.leeway = leeway
        var configuration = AuthConfiguration()
        configuration.jwt = jwt
        configuration.expiryGrace = grace
        let authenticator = try RouteAuthenticator.load(configuration, previous: nil, environment: ["SECRET": Self.secret])
        let token = TestTokens.hs256(["sub": "alice", "exp": exp], secret: Array(Self.secret.utf8))
        let head = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: "/",
            headers: ["Host": "gw", "Authorization": "Bearer \(token)"]
        )
        guard case .admit(let admission) = await authenticator.authenticate(head: head, peer: nil) else {
            XCTFail("the token was refused")
            return nil
        }
        return admission.closesAt
    }

    func testTheSessionEndsAtExpiryPlusGrace() async throws {
        let exp = Int(self.now) + 600
        let closesAt = try await self.closesAt(exp: exp, grace: .seconds(60), leeway: .seconds(30))
        XCTAssertEqual(closesAt, Double(exp + 60))
    }

    func testATokenAdmittedInsideTheLeewayIsNotCutRightAfterTheUpgrade() async throws {
        let exp = Int(self.now) - 5
        let closesAt = try await self.closesAt(exp: exp, grace: .zero, leeway: .seconds(30))
        XCTAssertEqual(closesAt, Double(exp + 30), "the session lasts as long as the leeway the handshake allowed")
    }
}
