import NIOHTTP1
import XCTest

@testable import WSGate

/// Where a token is read from, in the configured order, and how it is left out of what goes upstream.
final class PresentedTokenTests: XCTestCase {
    private func head(_ headers: [(String, String)], uri: String = "/ws") -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: HTTPHeaders(headers))
    }

    func testBearerHeader() throws {
        let head = self.head([("Authorization", "Bearer abc.def.ghi"), ("X-Other", "1")])
        let token = try XCTUnwrap(PresentedToken.find(in: head, sources: [.bearer]))
        XCTAssertEqual(token.token, "abc.def.ghi")
        XCTAssertEqual(token.removed(from: head.headers)["Authorization"], [])
        XCTAssertEqual(token.removed(from: head.headers)["X-Other"], ["1"])
    }

    func testBearerSchemeIsCaseInsensitiveAndOtherSchemesAreNotTokens() {
        XCTAssertEqual(
            PresentedToken.find(in: self.head([("Authorization", "bearer t.t.t")]), sources: [.bearer])?.token,
            "t.t.t"
        )
        XCTAssertNil(PresentedToken.find(in: self.head([("Authorization", "Basic dXNlcjpwdw==")]), sources: [.bearer]))
        XCTAssertNil(PresentedToken.find(in: self.head([("Authorization", "Bearer ")]), sources: [.bearer]))
        XCTAssertNil(
            PresentedToken.find(
                in: self.head([("Authorization", "Bearer a"), ("Authorization", "Bearer b")]),
                sources: [.bearer]
            ),
            "two Authorization fields are ambiguous"
        )
    }

    func testCookieIsTakenOutOfTheCookieHeaderOthersStay() throws {
        let head = self.head([("Cookie", "theme=dark; session=tok.en.x; lang=en")])
        let token = try XCTUnwrap(PresentedToken.find(in: head, sources: [.cookie("session")]))
        XCTAssertEqual(token.token, "tok.en.x")
        XCTAssertEqual(token.removed(from: head.headers)["Cookie"], ["theme=dark; lang=en"])
        let only = self.head([("Cookie", "session=a.b.c")])
        XCTAssertEqual(PresentedToken.find(in: only, sources: [.cookie("session")])?.removed(from: only.headers)["Cookie"], [])
    }

    func testQueryParameterIsRemovedFromThePathOthersKeptInOrder() throws {
        let head = self.head([], uri: "/ws/room?a=1&access_token=x.y.z&b=2")
        let token = try XCTUnwrap(PresentedToken.find(in: head, sources: [.query("access_token")]))
        XCTAssertEqual(token.token, "x.y.z")
        XCTAssertEqual(token.removed(fromPath: "/up/room?a=1&access_token=x.y.z&b=2"), "/up/room?a=1&b=2")
        XCTAssertEqual(token.removed(fromPath: "/up/room?access_token=x.y.z"), "/up/room")
        XCTAssertEqual(token.removed(fromPath: "/up/room"), "/up/room")
    }

    func testPercentEncodedQueryValueIsDecoded() {
        let head = self.head([], uri: "/ws?t=a%2Eb%2Ec")
        XCTAssertEqual(PresentedToken.find(in: head, sources: [.query("t")])?.token, "a.b.c")
    }

    func testSubprotocolEntryIsNotOfferedUpstream() throws {
        let head = self.head([("Sec-WebSocket-Protocol", "chat.v1, bearer.a.b.c")])
        let token = try XCTUnwrap(PresentedToken.find(in: head, sources: [.subprotocol(prefix: "bearer.")]))
        XCTAssertEqual(token.token, "a.b.c")
        XCTAssertEqual(token.removed(fromSubprotocols: ["chat.v1", "bearer.a.b.c"]), ["chat.v1"])
        XCTAssertEqual(token.removed(from: head.headers)["Sec-WebSocket-Protocol"], ["chat.v1"])
    }

    func testSourcesAreTriedInTheConfiguredOrder() {
        let head = self.head(
            [("Authorization", "Bearer from.header.x"), ("Cookie", "s=from.cookie.x")],
            uri: "/ws?t=from.query.x"
        )
        XCTAssertEqual(PresentedToken.find(in: head, sources: [.query("t"), .bearer])?.token, "from.query.x")
        XCTAssertEqual(PresentedToken.find(in: head, sources: [.cookie("s"), .query("t")])?.token, "from.cookie.x")
        XCTAssertEqual(PresentedToken.find(in: head, sources: [.cookie("other"), .bearer])?.token, "from.header.x")
        XCTAssertNil(PresentedToken.find(in: head, sources: [.cookie("other"), .subprotocol(prefix: "bearer.")]))
    }
}
