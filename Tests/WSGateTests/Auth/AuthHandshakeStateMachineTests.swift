import NIOHTTP1
import XCTest

@testable import WSGate

/// Authentication as a state of the client handshake: between admission and the upstream, never
/// dialled for a refused client; what an admission changes in what goes upstream.
final class AuthHandshakeStateMachineTests: XCTestCase {
    private static let routes = [
        RouteConfiguration(
            name: "app",
            match: RouteMatch(path: .prefix("/app")),
            upstream: "up",
            auth: AuthConfiguration(tokenSources: [.query("token"), .subprotocol(prefix: "bearer.")])
        ),
        RouteConfiguration(name: "open", match: RouteMatch(path: .prefix("/open")), upstream: "up"),
    ]

    private func machine() -> ClientHandshakeStateMachine {
        ClientHandshakeStateMachine(
            routeTable: RouteTable(configuration: GatewayConfiguration(listeners: [], routes: Self.routes)),
            maxHeaders: 20,
            retryAfter: .seconds(1),
            isTLS: false
        )
    }

    private func head(_ uri: String, protocols: String? = nil) -> HTTPRequestHead {
        var headers = HTTPHeaders([
            ("Host", "gw.example"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
        ])
        if let protocols { headers.add(name: "Sec-WebSocket-Protocol", value: protocols) }
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers)
    }

    private func authenticating(_ head: HTTPRequestHead) -> ClientHandshakeStateMachine {
        var machine = self.machine()
        _ = machine.requestHead(head)
        guard case .authenticate(let authenticated, let route) = machine.admission(refusal: nil, memoryPressure: .normal) else {
            XCTFail("the auth route did not ask for authentication")
            return machine
        }
        XCTAssertEqual(authenticated.uri, head.uri)
        XCTAssertEqual(route.name, "app")
        return machine
    }

    private func admission(token: PresentedToken?) -> AuthAdmission {
        AuthAdmission(
            subject: "alice",
            closesAt: nil,
            upstreamHeaders: [("X-User-Id", "alice")],
            reservedNames: ["x-user-id"],
            token: token
        )
    }

    func testARouteWithoutAuthGoesStraightOn() {
        var machine = self.machine()
        _ = machine.requestHead(self.head("/open"))
        guard case .none = machine.admission(refusal: nil, memoryPressure: .normal) else { return XCTFail("asked for auth") }
        guard case .openUpstream(_, _, nil) = machine.requestEnd() else { return XCTFail("no upstream") }
    }

    func testRefusalAnswersAndNeverOpensTheUpstream() {
        var machine = self.authenticating(self.head("/app"))
        XCTAssertTrue(machine.holdsReads, "nothing more is read from a client not yet authenticated")
        guard case .none = machine.requestEnd() else { return XCTFail("the request end did not wait for the decision") }
        guard case .reject(let rejection, nil) = machine.authenticated(.refuse(.missingToken)) else {
            return XCTFail("not refused")
        }
        XCTAssertEqual(rejection.status, .unauthorized)
        XCTAssertTrue(rejection.headers.contains { $0.0 == "WWW-Authenticate" })
        guard case .discardUpstream = machine.upstreamOpened(subprotocol: nil, relayedHeaders: [], memoryPressure: .normal) else {
            return XCTFail("an upstream after a refusal is kept")
        }
    }

    func testAdmissionAfterTheRequestEndOpensTheUpstreamWithoutTheToken() throws {
        let head = self.head("/app/room?token=a.b.c&x=1")
        var machine = self.authenticating(head)
        _ = machine.requestEnd()
        let token = try XCTUnwrap(PresentedToken.find(in: head, sources: [.query("token")]))
        guard case .openUpstream(_, let selection, let admission?) = machine.authenticated(.admit(self.admission(token: token)))
        else {
            return XCTFail("no upstream")
        }
        XCTAssertEqual(selection.upstreamPath, "/app/room?x=1")
        XCTAssertEqual(admission.subject, "alice")
        XCTAssertTrue(machine.holdsReads, "reads stay held while the upstream opens")
    }

    func testAdmissionBeforeTheRequestEndWaitsForIt() throws {
        let head = self.head("/app", protocols: "chat, bearer.a.b.c")
        var machine = self.authenticating(head)
        let token = try XCTUnwrap(PresentedToken.find(in: head, sources: [.subprotocol(prefix: "bearer.")]))
        guard case .none = machine.authenticated(.admit(self.admission(token: token))) else { return XCTFail("opened early") }
        XCTAssertFalse(machine.holdsReads, "the request end must be read")
        guard case .openUpstream(let request, _, _) = machine.requestEnd() else { return XCTFail("no upstream") }
        XCTAssertEqual(request.subprotocols, ["chat"], "the token is not offered upstream as a subprotocol")
    }

    func testTimeoutWhileAuthenticatingIs503() {
        var machine = self.authenticating(self.head("/app"))
        guard case .reject(let rejection, _) = machine.timedOut() else { return XCTFail("no answer") }
        XCTAssertEqual(rejection.status, .serviceUnavailable)
    }

    func testForwardAuthRefusalPassesItsBodyOn() {
        var machine = self.authenticating(self.head("/app"))
        let answer = HTTPAnswer(status: .forbidden, contentType: "application/json", body: Array(#"{"error":"banned"}"#.utf8))
        guard case .reject(let rejection, _) = machine.authenticated(.refuse(.forwardAuthRefused(answer))) else {
            return XCTFail("not refused")
        }
        XCTAssertEqual(rejection.answer.status, .forbidden)
        XCTAssertEqual(rejection.answer.contentType, "application/json")
        XCTAssertEqual(rejection.answer.body, Array(#"{"error":"banned"}"#.utf8))
    }
}
