import NIOHTTP1
import XCTest

@testable import WSGate

/// The client handshake as a value: every refusal, the way to the session, the timeout in each
/// phase, and what happens to an upstream that arrives too late. No channel involved.
final class ClientHandshakeStateMachineTests: XCTestCase {
    private static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    private static let routes = [
        RouteConfiguration(name: "chat", match: RouteMatch(path: .prefix("/chat")), upstream: "up", rewritePrefix: "/ws"),
        RouteConfiguration(
            name: "admin",
            match: RouteMatch(path: .exact("/admin")),
            upstream: "up",
            origins: ["https://example.com"]
        ),
    ]

    private func machine(isTLS: Bool = false, retryAfter: Duration = .seconds(1)) -> ClientHandshakeStateMachine {
        ClientHandshakeStateMachine(
            routeTable: RouteTable(configuration: GatewayConfiguration(listeners: [], routes: Self.routes)),
            maxHeaders: 10,
            retryAfter: retryAfter,
            isTLS: isTLS
        )
    }

    private func head(
        _ uri: String = "/chat/room?x=1",
        extra: [(String, String)] = [],
        omitting omitted: String? = nil
    ) -> HTTPRequestHead {
        var headers = HTTPHeaders([
            ("Host", "gw.example"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", Self.key),
            ("Sec-WebSocket-Version", "13"),
        ])
        if let omitted { headers.remove(name: omitted) }
        headers.add(contentsOf: extra)
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers)
    }

    /// Runs a machine up to the upstream opening.
    private func openingUpstream(_ head: HTTPRequestHead? = nil) -> ClientHandshakeStateMachine {
        var machine = self.machine()
        _ = machine.requestHead(head ?? self.head())
        _ = machine.admission(refusal: nil, memoryPressure: .normal)
        _ = machine.requestEnd()
        return machine
    }

    private func assertRejects(
        _ action: ClientHandshakeStateMachine.Action,
        _ status: HTTPResponseStatus,
        limitHit expectedLimit: String? = nil,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        guard case .reject(let rejection, let limitHit) = action else {
            return XCTFail("expected a \(status.code) rejection, got \(action)", file: file, line: line)
        }
        XCTAssertEqual(rejection.status, status, file: file, line: line)
        XCTAssertEqual(limitHit, expectedLimit, file: file, line: line)
    }

    // MARK: The way to the session

    func testValidRequestIsAdmittedOpensTheUpstreamAnswers101AndStartsTheSession() throws {
        var machine = self.machine()
        guard case .admit(let route) = machine.requestHead(self.head()) else { return XCTFail("not admitted") }
        XCTAssertEqual(route.name, "chat")
        XCTAssertEqual(machine.routeName, "chat")
        XCTAssertEqual(machine.target, "/chat/room")
        XCTAssertFalse(machine.holdsReads)

        guard case .none = machine.admission(refusal: nil, memoryPressure: .normal) else { return XCTFail("refused") }
        guard case .openUpstream(let request, let selection, _) = machine.requestEnd() else {
            return XCTFail("no upstream opened")
        }
        XCTAssertEqual(request.key, Self.key)
        XCTAssertEqual(selection.upstreamPath, "/ws/room?x=1")
        XCTAssertTrue(machine.holdsReads, "reads wait while the upstream opens")

        let answer = machine.upstreamOpened(
            subprotocol: "chat.v2",
            relayedHeaders: [("X-Upstream", "1")],
            memoryPressure: .normal
        )
        guard case .answer(.switchingProtocols, let headers) = answer else { return XCTFail("no 101: \(answer)") }
        XCTAssertEqual(headers["Sec-WebSocket-Accept"], ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="])
        XCTAssertEqual(headers["Sec-WebSocket-Protocol"], ["chat.v2"])
        XCTAssertEqual(headers["X-Upstream"], ["1"])
        XCTAssertEqual(headers["Sec-WebSocket-Extensions"], [])
        XCTAssertTrue(machine.isUpgrading, "bytes behind the request are kept for the session from now on")

        guard case .startSession(_, let sessionRoute, let compression, _) = machine.codecsRetired() else {
            return XCTFail("no session")
        }
        XCTAssertEqual(sessionRoute.name, "chat")
        XCTAssertNil(compression)
        machine.handedOver()
        XCTAssertFalse(machine.holdsReads)
        XCTAssertFalse(machine.isUpgrading)
        guard case .none = machine.timedOut() else { return XCTFail("a finished handshake does not time out") }
    }

    func testDeflateIsNegotiatedWithTheClientAndLosesContextTakeoverNearTheMemoryBudget() throws {
        let offer = [("Sec-WebSocket-Extensions", "permessage-deflate")]
        var plenty = self.openingUpstream(self.head(extra: offer))
        guard case .answer(_, let headers) = plenty.upstreamOpened(subprotocol: nil, relayedHeaders: [], memoryPressure: .normal)
        else { return XCTFail() }
        XCTAssertEqual(headers["Sec-WebSocket-Extensions"].count, 1)
        guard case .startSession(_, _, let compression?, _) = plenty.codecsRetired() else { return XCTFail("no compression") }
        XCTAssertFalse(compression.serverNoContextTakeover)

        var near = self.openingUpstream(self.head(extra: offer))
        _ = near.upstreamOpened(subprotocol: nil, relayedHeaders: [], memoryPressure: .near)
        guard case .startSession(_, _, let reduced?, _) = near.codecsRetired() else { return XCTFail("no compression") }
        XCTAssertTrue(reduced.serverNoContextTakeover)
    }

    // MARK: Refusals

    func testTooManyHeaderFieldsAre431BeforeRouting() {
        var machine = self.machine()
        let extra = (0..<6).map { ("X-Field-\($0)", "v") }
        self.assertRejects(machine.requestHead(self.head(extra: extra)), .requestHeaderFieldsTooLarge)
        XCTAssertNil(machine.routeName)
    }

    func testNoRouteIs404AndCountedUnrouted() {
        var machine = self.machine()
        self.assertRejects(machine.requestHead(self.head("/nowhere")), .notFound)
        XCTAssertNil(machine.routeName)
        XCTAssertEqual(machine.target, "/nowhere")
    }

    func testInvalidUpgradeRequestsAreRefusedOnTheirRoute() {
        var notWebSocket = self.machine()
        self.assertRejects(notWebSocket.requestHead(self.head(omitting: "Upgrade")), .upgradeRequired)
        XCTAssertEqual(notWebSocket.routeName, "chat")

        var noKey = self.machine()
        self.assertRejects(noKey.requestHead(self.head(omitting: "Sec-WebSocket-Key")), .badRequest)

        var oldVersion = self.machine()
        self.assertRejects(
            oldVersion.requestHead(self.head(extra: [("Sec-WebSocket-Version", "8")], omitting: "Sec-WebSocket-Version")),
            .upgradeRequired
        )
    }

    func testUpgradeTargetsAndHostsAnAppMayReadAsAnotherRouteAreRefusedOnTheirRoute() {
        for uri in ["/chat/../admin", "/chat/%2e%2e/admin", "/chat/%61", "http://gw.example/chat"] {
            var machine = self.machine()
            if uri.hasPrefix("/") {
                self.assertRejects(machine.requestHead(self.head(uri)), .badRequest)
                XCTAssertEqual(machine.routeName, "chat", uri)
            } else {
                // An absolute-form target matches no path prefix: 404 before the target check.
                self.assertRejects(machine.requestHead(self.head(uri)), .notFound)
            }
        }
        var twoHosts = self.machine()
        self.assertRejects(twoHosts.requestHead(self.head(extra: [("Host", "admin.example")])), .badRequest)
        var plain = self.machine()
        guard case .admit = plain.requestHead(self.head("/chat/room%20one")) else { return XCTFail() }
    }

    func testOriginOutsideTheRoutesListIs403() {
        var wrong = self.machine()
        self.assertRejects(wrong.requestHead(self.head("/admin", extra: [("Origin", "https://evil.example")])), .forbidden)
        var none = self.machine()
        self.assertRejects(none.requestHead(self.head("/admin")), .forbidden)
        var allowed = self.machine()
        guard case .admit = allowed.requestHead(self.head("/admin", extra: [("Origin", "https://EXAMPLE.com")])) else {
            return XCTFail()
        }
    }

    func testConnectionLimitRefusalIs503WithRetryAfterAndCountsTheLimit() {
        var machine = self.machine(retryAfter: .milliseconds(1500))
        _ = machine.requestHead(self.head())
        let action = machine.admission(refusal: .perIP, memoryPressure: .normal)
        self.assertRejects(action, .serviceUnavailable, limitHit: LimitName.maxConnectionsPerIP)
        guard case .reject(let rejection, _) = action else { return }
        XCTAssertEqual(rejection.message, "connection limit reached (max_connections_per_ip)")
        XCTAssertTrue(rejection.headers.elementsEqual([("Retry-After", "2")], by: ==), "rounded up to whole seconds")
        guard case .none = machine.requestEnd() else { return XCTFail("a refused request opens nothing") }
    }

    func testFullMemoryBudgetIs503() {
        var machine = self.machine()
        _ = machine.requestHead(self.head())
        self.assertRejects(
            machine.admission(refusal: nil, memoryPressure: .full),
            .serviceUnavailable,
            limitHit: LimitName.maxMemory
        )
    }

    func testUpstreamFailureIsAnsweredWithItsRejection() {
        var machine = self.openingUpstream()
        self.assertRejects(machine.upstreamFailed(HandshakeRejection(.badGateway, "upstream unavailable")), .badGateway)
        guard case .none = machine.upstreamFailed(HandshakeRejection(.badGateway, "again")) else {
            return XCTFail("answered twice")
        }
    }

    func testMalformedRequestIs400OnlyBeforeTheHead() {
        var fresh = self.machine()
        self.assertRejects(fresh.errorCaught("bad"), .badRequest)
        var later = self.openingUpstream()
        guard case .close = later.errorCaught("bad") else { return XCTFail("an error after the request closes") }
    }

    // MARK: Timeout

    func testTimeoutIs408BeforeTheRequestAnd504WhileTheUpstreamOpens() {
        var waiting = self.machine()
        self.assertRejects(waiting.timedOut(), .requestTimeout)

        var halfRead = self.machine()
        _ = halfRead.requestHead(self.head())
        _ = halfRead.admission(refusal: nil, memoryPressure: .normal)
        self.assertRejects(halfRead.timedOut(), .requestTimeout)

        var opening = self.openingUpstream()
        self.assertRejects(opening.timedOut(), .gatewayTimeout)
        guard case .discardUpstream = opening.upstreamOpened(subprotocol: nil, relayedHeaders: [], memoryPressure: .normal) else {
            return XCTFail("an upstream arriving after the 504 is closed")
        }
    }

    func testConnectionsRefusedAtAcceptGetAShortTimeout() {
        XCTAssertEqual(ClientHandshakeStateMachine.timeout(configured: .seconds(10), refusedAtAccept: true), .seconds(1))
        XCTAssertEqual(
            ClientHandshakeStateMachine.timeout(configured: .milliseconds(300), refusedAtAccept: true),
            .milliseconds(300)
        )
        XCTAssertEqual(ClientHandshakeStateMachine.timeout(configured: .seconds(10), refusedAtAccept: false), .seconds(10))
    }

    // MARK: TLS

    func testUnfinishedTLSHandshakeIsClosedWithoutAnHTTPAnswer() {
        var timedOut = self.machine(isTLS: true)
        guard case .closeAfterTLSFailure(let reason) = timedOut.timedOut() else { return XCTFail() }
        XCTAssertEqual(reason, "not completed within handshake_timeout")
        guard case .close = timedOut.errorCaught("late") else { return XCTFail("recorded once") }

        var failed = self.machine(isTLS: true)
        guard case .closeAfterTLSFailure("no shared cipher") = failed.errorCaught("no shared cipher") else { return XCTFail() }
    }

    func testAfterTheTLSHandshakeTheRequestIsRead() {
        var machine = self.machine(isTLS: true)
        guard case .none = machine.requestHead(self.head()) else { return XCTFail("no HTTP before the TLS handshake") }
        _ = machine.transportReady()
        guard case .admit = machine.requestHead(self.head()) else { return XCTFail() }
    }
}
