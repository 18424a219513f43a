import XCTest

@testable import WSGate

/// When a JWKS URL is fetched again and whether its keys may still be used, on a clock the test moves.
final class JWKSRefreshPolicyTests: XCTestCase {
    private func policy() -> JWKSRefreshPolicy {
        JWKSRefreshPolicy(refreshInterval: 60, maxStale: 600, minimumGap: 1)
    }

    func testFirstTokenFetchesFirst() {
        XCTAssertEqual(self.policy().step(now: 0, knowsKid: false), .fetchFirst)
    }

    func testKnownKidUsesKeysAndRefreshesInTheBackgroundWhenDue() {
        var policy = self.policy()
        policy.fetchStarted(now: 0)
        policy.fetchSucceeded(now: 0)
        XCTAssertEqual(policy.step(now: 30, knowsKid: true), .use)
        XCTAssertEqual(policy.step(now: 61, knowsKid: true), .useAndRefresh)
    }

    func testUnknownKidFetchesAtOnceButNotTwiceWithinTheGap() {
        var policy = self.policy()
        policy.fetchStarted(now: 0)
        policy.fetchSucceeded(now: 0)
        XCTAssertEqual(policy.step(now: 5, knowsKid: false), .fetchFirst)
        policy.fetchStarted(now: 5)
        XCTAssertEqual(policy.step(now: 5.5, knowsKid: false), .use, "a flood of unknown kids costs one fetch per gap")
    }

    func testIssuerDownKeysServeStaleUntilMaxStaleThenUnavailable() {
        var policy = self.policy()
        policy.fetchStarted(now: 0)
        policy.fetchSucceeded(now: 0)
        // Every fetch from now on fails.
        policy.fetchStarted(now: 100)
        XCTAssertTrue(policy.isUsable(now: 599))
        XCTAssertEqual(policy.step(now: 100.5, knowsKid: true), .use)
        XCTAssertEqual(policy.step(now: 599, knowsKid: true), .useAndRefresh)
        policy.fetchStarted(now: 599)
        XCTAssertFalse(policy.isUsable(now: 601))
        XCTAssertEqual(policy.step(now: 601, knowsKid: true), .fetchFirst)
        policy.fetchStarted(now: 601)
        XCTAssertEqual(policy.step(now: 601.5, knowsKid: true), .unavailable)
        policy.fetchSucceeded(now: 602)
        XCTAssertEqual(policy.step(now: 602, knowsKid: true), .use)
    }
}
