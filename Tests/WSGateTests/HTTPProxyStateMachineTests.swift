import NIOCore
import NIOHTTP1
import XCTest

@testable import WSGate

/// The HTTP proxy's rules as values, without I/O: request framing (the smuggling defences), the
/// response re-framing, the exchange from head to end (keep-alive, early answers, the stale
/// keep-alive retry, timeouts), the keep-alive pool and the third encoder of the forwarding policy.
final class HTTPProxyStateMachineTests: XCTestCase {
    private func head(
        _ method: HTTPMethod = .GET,
        _ fields: [(String, String)] = [],
        version: HTTPVersion = .http1_1
    )
        -> HTTPRequestHead
    {
        HTTPRequestHead(version: version, method: method, uri: "/x", headers: HTTPHeaders([("Host", "app")] + fields))
    }

    private func framing(_ head: HTTPRequestHead, maxBody: Int = 0) -> Result<HTTPBodyFraming, HandshakeRejection> {
        Result { () throws(HandshakeRejection) in try HTTPBodyFraming.request(head, maxBody: maxBody) }
    }

    private func status(_ result: Result<HTTPBodyFraming, HandshakeRejection>) -> UInt? {
        if case .failure(let rejection) = result { return rejection.status.code }
        return nil
    }

    // MARK: Request framing

    func testRequestFraming() {
        XCTAssertEqual(try self.framing(self.head()).get(), HTTPBodyFraming.none)
        XCTAssertEqual(try self.framing(self.head(.POST, [("Content-Length", "12")])).get(), .contentLength(12))
        XCTAssertEqual(try self.framing(self.head(.POST, [("Content-Length", "0")])).get(), HTTPBodyFraming.none)
        XCTAssertEqual(try self.framing(self.head(.POST, [("Transfer-Encoding", "chunked")])).get(), .chunked)
        XCTAssertEqual(try self.framing(self.head(.POST, [("Content-Length", "5, 5")])).get(), .contentLength(5))
    }

    func testSmugglingShapesAreRefused() {
        XCTAssertEqual(
            self.status(self.framing(self.head(.POST, [("Content-Length", "5"), ("Transfer-Encoding", "chunked")]))),
            400
        )
        XCTAssertEqual(self.status(self.framing(self.head(.POST, [("Content-Length", "5"), ("Content-Length", "6")]))), 400)
        XCTAssertEqual(self.status(self.framing(self.head(.POST, [("Content-Length", "+5")]))), 400)
        XCTAssertEqual(self.status(self.framing(self.head(.POST, [("Content-Length", "99999999999999999999")]))), 400)
        XCTAssertEqual(self.status(self.framing(self.head(.POST, [("Transfer-Encoding", "chunked, identity")]))), 400)
        XCTAssertEqual(self.status(self.framing(self.head(.POST, [("Transfer-Encoding", "gzip, chunked")]))), 501)
        XCTAssertEqual(
            self.status(self.framing(self.head(.POST, [("Transfer-Encoding", "chunked")], version: .http1_0))),
            400
        )
    }

    func testADeclaredBodyOverTheLimitIs413BeforeItIsRead() {
        XCTAssertEqual(self.status(self.framing(self.head(.POST, [("Content-Length", "101")]), maxBody: 100)), 413)
        XCTAssertEqual(try self.framing(self.head(.POST, [("Content-Length", "100")]), maxBody: 100).get(), .contentLength(100))
    }

    /// The route table matches the target and `Host` as bytes; an app that resolves them must not
    /// serve another route's request (an `auth` route bypassed through a route without).
    func testTargetsAndHostsAnAppMayReadAsAnotherRouteAreRefused() {
        func answer(
            _ method: HTTPMethod,
            _ uri: String,
            _ fields: [(String, String)] = [("Host", "app")],
            version: HTTPVersion = .http1_1
        )
            -> UInt?
        {
            var machine = HTTPProxyStateMachine()
            let head = HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(fields))
            guard case .reject(let rejection, let outcome) = machine.requestHead(head, maxBody: 0) else { return nil }
            XCTAssertEqual(outcome.status, Int(rejection.status.code))
            return rejection.status.code
        }
        for uri in [
            "/public/../admin", "/public/%2e%2E/admin", "/./admin", "/admin/..", "/%61dmin", "/adm%69n", "/a%2Fb", "/%7Euser",
            "/%zz", "/public/..;/admin", "/public/.;x/admin", "//admin", "/public//admin", "/a\\b", "/a%5Cb", "/a%5cb",
        ] {
            XCTAssertEqual(answer(.GET, uri), 400, uri)
        }
        XCTAssertEqual(answer(.GET, "http://admin.example/"), 400, "absolute form: an app takes its authority over Host")
        XCTAssertEqual(answer(.GET, "admin"), 400)
        XCTAssertEqual(answer(.GET, "/", [("Host", "public"), ("Host", "admin")]), 400, "two Hosts")
        XCTAssertEqual(answer(.GET, "/", []), 400, "no Host in HTTP/1.1")
        XCTAssertEqual(answer(.CONNECT, "app:443"), 501)
        for uri in [
            "/", "/a/b.c/..d/...", "/a%20b?x=../%61", "/%C3%A9t%C3%A9", "/a/b%3F", "/a/", "/a;v=1/b", "/a?next=//b",
        ] {
            XCTAssertNil(answer(.GET, uri), uri)
        }
        XCTAssertNil(answer(.OPTIONS, "*"))
        XCTAssertNil(answer(.GET, "/", [], version: .http1_0), "HTTP/1.0 needs no Host")
    }

    // MARK: Response framing

    private func plan(
        _ status: HTTPResponseStatus,
        _ fields: [(String, String)],
        method: HTTPMethod = .GET,
        client: HTTPVersion = .http1_1,
        upstream: HTTPVersion = .http1_1,
        keepsAlive: Bool = true
    ) -> HTTPResponsePlan {
        try! HTTPResponsePlan(
            response: HTTPResponseHead(version: upstream, status: status, headers: HTTPHeaders(fields)),
            requestMethod: method,
            clientVersion: client,
            clientKeepsAlive: keepsAlive
        )
    }

    func testResponseFramingFollowsTheUpstreamAndTheClient() {
        let sized = self.plan(
            .ok,
            [("Content-Length", "3"), ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("X-App", "2")]
        )
        XCTAssertEqual(sized.upstreamFraming, .contentLength(3))
        XCTAssertEqual(sized.head.headers["Content-Length"], ["3"])
        XCTAssertEqual(sized.head.headers["X-Hop"], [], "a field named in Connection is hop-by-hop")
        XCTAssertEqual(sized.head.headers["Connection"], [])
        XCTAssertEqual(sized.head.headers["X-App"], ["2"])
        XCTAssertFalse(sized.closesClient)
        XCTAssertTrue(sized.upstreamKeepsAlive)

        let chunked = self.plan(.ok, [("Transfer-Encoding", "chunked")])
        XCTAssertEqual(chunked.upstreamFraming, .chunked)
        XCTAssertEqual(chunked.head.headers["Transfer-Encoding"], ["chunked"])

        let untilClose = self.plan(.ok, [], upstream: .http1_0)
        XCTAssertEqual(untilClose.upstreamFraming, .untilClose)
        XCTAssertEqual(untilClose.head.headers["Transfer-Encoding"], ["chunked"], "re-framed for an HTTP/1.1 client")
        XCTAssertFalse(untilClose.closesClient)
        XCTAssertFalse(untilClose.upstreamKeepsAlive)

        let oldClient = self.plan(.ok, [("Transfer-Encoding", "chunked")], client: .http1_0)
        XCTAssertTrue(oldClient.closesClient, "an HTTP/1.0 client gets a body delimited by the close")
        XCTAssertEqual(oldClient.head.headers["Transfer-Encoding"], [])
        XCTAssertEqual(oldClient.head.headers["Connection"], ["close"])

        XCTAssertFalse(self.plan(.ok, [("Content-Length", "0"), ("Connection", "close")]).upstreamKeepsAlive)
        XCTAssertTrue(self.plan(.ok, [("Content-Length", "0")], keepsAlive: false).closesClient)
    }

    /// Any transfer coding but a lone `chunked` is refused (502, as nginx), toward every client: the
    /// client encoder frames only a lone `chunked`, so `gzip, chunked` or `gzip` would go out unframed
    /// on a keep-alive connection (a second response smuggled in the body).
    func testTransferCodingsOtherThanALoneChunkedAre502() throws {
        func refusal(_ fields: [(String, String)], client: HTTPVersion) -> UInt? {
            do {
                _ = try HTTPResponsePlan(
                    response: HTTPResponseHead(version: .http1_1, status: .ok, headers: HTTPHeaders(fields)),
                    requestMethod: .GET,
                    clientVersion: client,
                    clientKeepsAlive: true
                )
                return nil
            } catch {
                return error.status.code
            }
        }
        for client in [HTTPVersion.http1_1, .http1_0] {
            XCTAssertEqual(refusal([("Transfer-Encoding", "gzip, chunked")], client: client), 502)
            XCTAssertEqual(refusal([("Transfer-Encoding", "gzip"), ("Content-Length", "10")], client: client), 502)
            XCTAssertEqual(refusal([("Transfer-Encoding", "chunked, gzip")], client: client), 502)
            XCTAssertEqual(refusal([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")], client: client), 502)
            XCTAssertEqual(refusal([("Transfer-Encoding", "identity")], client: client), 502)
            XCTAssertNil(refusal([("Transfer-Encoding", "Chunked")], client: client))
        }
        XCTAssertEqual(self.plan(.ok, [("Transfer-Encoding", "chunked")]).head.headers["Transfer-Encoding"], ["chunked"])

        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(.GET, []), maxBody: 0)
        _ = machine.admitted()
        _ = machine.leased(reused: false)
        guard
            case .reject(let rejection, _) = machine.responseHead(
                HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Transfer-Encoding": "gzip, chunked"])
            )
        else { return XCTFail("a coding besides chunked is refused") }
        XCTAssertEqual(rejection.status, .badGateway)
    }

    func testBodilessResponses() {
        let head = self.plan(.ok, [("Content-Length", "1000"), ("Transfer-Encoding", "chunked")], method: .HEAD)
        XCTAssertEqual(head.upstreamFraming, HTTPBodyFraming.none)
        XCTAssertEqual(head.head.headers["Transfer-Encoding"], [], "no chunked terminator may follow a HEAD answer")
        XCTAssertEqual(head.head.headers["Content-Length"], ["1000"], "what the GET would carry")
        let noContent = self.plan(.noContent, [("Content-Length", "0")])
        XCTAssertEqual(noContent.upstreamFraming, HTTPBodyFraming.none)
        XCTAssertEqual(noContent.head.headers["Content-Length"], [])
        XCTAssertEqual(self.plan(.notModified, [("Transfer-Encoding", "chunked")]).head.headers["Transfer-Encoding"], [])
    }

    // MARK: The exchange

    private var response: HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "2"])
    }

    func testAKeepAliveExchangeFromHeadToEnd() {
        var machine = HTTPProxyStateMachine()
        XCTAssertTrue(machine.mayReadClient)
        XCTAssertEqual(machine.requestHead(self.head(.POST, [("Content-Length", "4")]), maxBody: 0), .admit)
        XCTAssertFalse(machine.mayReadClient, "reads are held while admitting")
        XCTAssertEqual(machine.requestBody(bytes: 2), .keepBody)
        XCTAssertEqual(machine.admitted(), .lease(fresh: false))
        XCTAssertFalse(machine.mayReadClient)
        XCTAssertEqual(machine.leased(reused: true), .forwardRequest(.contentLength(4), answerContinue: false, end: nil))
        XCTAssertTrue(machine.mayReadClient)
        XCTAssertEqual(machine.requestBody(bytes: 2), .forwardBody)
        XCTAssertEqual(machine.requestEnd(trailers: nil), .forwardEnd(.init(trailers: nil)))
        guard case .respond(let head) = machine.responseHead(self.response) else { return XCTFail("no response head") }
        XCTAssertEqual(head.status, .ok)
        XCTAssertEqual(machine.responseBody(bytes: 2), .respondBody)
        XCTAssertEqual(
            machine.responseEnd(trailers: nil),
            .finish(
                trailers: nil,
                upstreamReusable: true,
                closeClient: false,
                HTTPExchangeOutcome(status: 200, requestBytes: 4, responseBytes: 2, upstreamAnswered: true)
            )
        )
        XCTAssertTrue(machine.isIdle)
        XCTAssertEqual(machine.requestHead(self.head(), maxBody: 0), .admit, "the next request on the connection")
    }

    /// A graceful shutdown: between exchanges the connection closes at once; an exchange in
    /// progress is the last (its answer says `Connection: close`), also when its head was already
    /// out when the drain began; a drain that comes first makes the next exchange the last.
    func testDrainEndsTheConnectionAfterTheExchangeInProgress() {
        var idle = HTTPProxyStateMachine()
        XCTAssertEqual(idle.drain(), .closeIdle)
        XCTAssertEqual(idle.requestHead(self.head(), maxBody: 0), .none, "nothing after the close")

        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(), maxBody: 0)
        _ = machine.admitted()
        _ = machine.leased(reused: false)
        _ = machine.requestEnd(trailers: nil)
        XCTAssertEqual(machine.drain(), .none, "the exchange goes on")
        guard case .respond(let head) = machine.responseHead(self.response) else { return XCTFail("no response head") }
        XCTAssertEqual(head.headers["Connection"], ["close"])
        _ = machine.responseBody(bytes: 2)
        guard case .finish(_, true, true, _) = machine.responseEnd(trailers: nil) else {
            return XCTFail("the upstream connection goes back, the client's closes")
        }

        var late = HTTPProxyStateMachine()
        _ = late.requestHead(self.head(), maxBody: 0)
        _ = late.admitted()
        _ = late.leased(reused: false)
        _ = late.requestEnd(trailers: nil)
        guard case .respond(let early) = late.responseHead(self.response) else { return XCTFail("no response head") }
        XCTAssertEqual(early.headers["Connection"], [], "the head went before the drain")
        XCTAssertEqual(late.drain(), .none)
        guard case .finish(_, _, true, _) = late.responseEnd(trailers: nil) else { return XCTFail("not closed after") }

        var first = HTTPProxyStateMachine()
        _ = first.requestHead(self.head(), maxBody: 0)
        XCTAssertEqual(first.drain(), .none, "a connection that joined during the drain: its first exchange is its last")
        _ = first.admitted()
        _ = first.leased(reused: false)
        _ = first.requestEnd(trailers: nil)
        guard case .respond(let last) = first.responseHead(self.response) else { return XCTFail("no response head") }
        XCTAssertEqual(last.headers["Connection"], ["close"])
    }

    /// A connection lent after the exchange ended (413 while it was being dialled) would stay lent
    /// to nobody: the machine says to give it back.
    func testAConnectionLentAfterTheExchangeEndedGoesBack() {
        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(.POST, [("Transfer-Encoding", "chunked")]), maxBody: 4)
        _ = machine.admitted()
        guard case .reject = machine.requestBody(bytes: 5) else { return XCTFail("not refused") }
        XCTAssertEqual(machine.leased(reused: false), .returnLease)
    }

    func testRequestTrailersAreNotForwarded() {
        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(.POST, [("Transfer-Encoding", "chunked")]), maxBody: 0)
        _ = machine.admitted()
        _ = machine.leased(reused: false)
        XCTAssertEqual(
            machine.requestEnd(trailers: ["X-Auth-Subject": "admin", "X-Forwarded-For": "10.0.0.1"]),
            .forwardEnd(.init(trailers: nil)),
            "trailers would pass the forwarding policy by"
        )
    }

    func testTheBodyKeptBeforeTheUpstreamConnectionIsCounted() {
        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(.POST, [("Content-Length", "10")]), maxBody: 0)
        XCTAssertEqual(machine.requestBody(bytes: 3), .keepBody)
        _ = machine.admitted()
        XCTAssertEqual(machine.requestBody(bytes: 4), .keepBody)
        XCTAssertEqual(machine.keptBytes, 7, "what the memory budget counts of the connection")
        _ = machine.leased(reused: false)
        XCTAssertEqual(machine.keptBytes, 0, "written upstream")
        XCTAssertEqual(machine.requestBody(bytes: 3), .forwardBody)
        XCTAssertEqual(machine.keptBytes, 0)
    }

    func testExpectContinueIsAnsweredOnceTheUpstreamIsThere() {
        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(.PUT, [("Content-Length", "4"), ("Expect", "100-continue")]), maxBody: 0)
        _ = machine.admitted()
        XCTAssertEqual(machine.leased(reused: false), .forwardRequest(.contentLength(4), answerContinue: true, end: nil))
    }

    func testAnAnswerBeforeTheWholeBodyClosesBothConnectionsAfterIt() {
        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(.POST, [("Transfer-Encoding", "chunked")]), maxBody: 0)
        _ = machine.admitted()
        _ = machine.leased(reused: false)
        _ = machine.responseHead(HTTPResponseHead(version: .http1_1, status: .payloadTooLarge, headers: ["Content-Length": "0"]))
        guard case .finish(_, let reusable, let closeClient, _) = machine.responseEnd(trailers: nil) else {
            return XCTFail("no finish")
        }
        XCTAssertFalse(reusable)
        XCTAssertTrue(closeClient)
        XCTAssertEqual(machine.requestBody(bytes: 10), HTTPProxyStateMachine.Action.none, "the rest of the body is not forwarded")
    }

    /// A request of an HTTP/2 stream (version 2.0 through NIO's codec): a length-less body is chunked
    /// (the codec's `Transfer-Encoding`), `Expect: 100-continue` counts, and body bytes a GET did not
    /// announce are 400, never forwarded unframed to an HTTP/1.1 upstream (they would be a second request).
    func testStreamRequestsAreFramedAndAnUnannouncedBodyIsRefused() {
        let http2 = HTTPVersion(major: 2, minor: 0)
        XCTAssertEqual(try self.framing(self.head(.POST, [("Transfer-Encoding", "chunked")], version: http2)).get(), .chunked)
        var upload = HTTPProxyStateMachine()
        _ = upload.requestHead(self.head(.PUT, [("Content-Length", "4"), ("Expect", "100-continue")], version: http2), maxBody: 0)
        _ = upload.admitted()
        XCTAssertEqual(upload.leased(reused: false), .forwardRequest(.contentLength(4), answerContinue: true, end: nil), "100-continue on a stream")

        var smuggler = HTTPProxyStateMachine()
        XCTAssertEqual(smuggler.requestHead(self.head(.GET, [], version: http2), maxBody: 0), .admit)
        _ = smuggler.admitted()
        _ = smuggler.leased(reused: false)
        XCTAssertEqual(smuggler.requestBody(bytes: 0), .none, "an empty DATA frame is no body")
        guard case .reject(let rejection, _) = smuggler.requestBody(bytes: 40) else { return XCTFail("forwarded") }
        XCTAssertEqual(rejection.status, .badRequest)
    }

    func testAChunkedBodyOverTheLimitIs413() {
        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(.POST, [("Transfer-Encoding", "chunked")]), maxBody: 10)
        _ = machine.admitted()
        _ = machine.leased(reused: false)
        XCTAssertEqual(machine.requestBody(bytes: 10), .forwardBody)
        guard case .reject(let rejection, let outcome) = machine.requestBody(bytes: 1) else { return XCTFail("not refused") }
        XCTAssertEqual(rejection.status, .payloadTooLarge)
        XCTAssertEqual(outcome.requestBytes, 11)
    }

    func testAStalePooledConnectionIsRetriedOnceForAnIdempotentRequestWithoutBody() {
        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(), maxBody: 0)
        _ = machine.requestEnd(trailers: nil)
        _ = machine.admitted()
        XCTAssertEqual(machine.leased(reused: true), .forwardRequest(.none, answerContinue: false, end: .init(trailers: nil)))
        XCTAssertEqual(machine.upstreamClosed(), .lease(fresh: true))
        XCTAssertEqual(machine.leased(reused: false), .forwardRequest(.none, answerContinue: false, end: .init(trailers: nil)))
        guard case .reject(let rejection, _) = machine.upstreamClosed() else { return XCTFail("retried twice") }
        XCTAssertEqual(rejection.status, .badGateway)
    }

    func testNoRetryForAFreshConnectionABodyOrAPost() {
        func closedBeforeAnswer(_ head: HTTPRequestHead, reused: Bool) -> HTTPProxyStateMachine.Action {
            var machine = HTTPProxyStateMachine()
            _ = machine.requestHead(head, maxBody: 0)
            _ = machine.admitted()
            _ = machine.leased(reused: reused)
            return machine.upstreamClosed()
        }
        for (head, reused) in [
            (self.head(), false), (self.head(.POST), true), (self.head(.PUT, [("Content-Length", "3")]), true),
        ] {
            guard case .reject(let rejection, _) = closedBeforeAnswer(head, reused: reused) else {
                return XCTFail("retried \(head.method) reused=\(reused)")
            }
            XCTAssertEqual(rejection.status, .badGateway)
        }
    }

    func testAConnectionLostMidResponseIsAborted() {
        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(), maxBody: 0)
        _ = machine.admitted()
        _ = machine.leased(reused: true)
        _ = machine.responseHead(self.response)
        XCTAssertEqual(
            machine.upstreamClosed(),
            .abort(HTTPExchangeOutcome(status: 200, requestBytes: 0, responseBytes: 0, upstreamAnswered: true))
        )
    }

    func testTimeoutsAndRefusals() {
        var slow = HTTPProxyStateMachine()
        _ = slow.requestHead(self.head(), maxBody: 0)
        _ = slow.admitted()
        XCTAssertEqual(slow.responseTimedOut(), HTTPProxyStateMachine.Action.none, "no timer before the request went")
        _ = slow.leased(reused: false)
        guard case .reject(let timeout, _) = slow.responseTimedOut() else { return XCTFail("no 504") }
        XCTAssertEqual(timeout.status, .gatewayTimeout)

        var refused = HTTPProxyStateMachine()
        _ = refused.requestHead(self.head(), maxBody: 0)
        guard case .reject(let rejection, _) = refused.refused(HandshakeRejection(.serviceUnavailable, "busy")) else {
            return XCTFail("not refused")
        }
        XCTAssertEqual(rejection.status, .serviceUnavailable)
        XCTAssertFalse(refused.mayReadClient)

        var unreachable = HTTPProxyStateMachine()
        _ = unreachable.requestHead(self.head(), maxBody: 0)
        _ = unreachable.admitted()
        guard case .reject(let down, _) = unreachable.leaseFailed(HandshakeRejection(.badGateway, "down")) else {
            return XCTFail("not refused")
        }
        XCTAssertEqual(down.status, .badGateway)

        var smuggled = HTTPProxyStateMachine()
        guard
            case .reject(let smuggling, _) = smuggled.requestHead(
                self.head(.POST, [("Content-Length", "3"), ("Transfer-Encoding", "chunked")]),
                maxBody: 0
            )
        else { return XCTFail("CL+TE not refused") }
        XCTAssertEqual(smuggling.status, .badRequest)
    }

    func testAStalledExchangeIs408Then504ThenClosed() {
        var body = HTTPProxyStateMachine()
        _ = body.requestHead(self.head(.POST, [("Content-Length", "10")]), maxBody: 0)
        _ = body.admitted()
        _ = body.leased(reused: false)
        guard case .reject(let unfinished, _) = body.stalled() else { return XCTFail("no 408") }
        XCTAssertEqual(unfinished.status, .requestTimeout)

        var answer = HTTPProxyStateMachine()
        _ = answer.requestHead(self.head(), maxBody: 0)
        _ = answer.requestEnd(trailers: nil)
        _ = answer.admitted()
        _ = answer.leased(reused: false)
        guard case .reject(let unanswered, _) = answer.stalled() else { return XCTFail("no 504") }
        XCTAssertEqual(unanswered.status, .gatewayTimeout)

        var reading = HTTPProxyStateMachine()
        _ = reading.requestHead(self.head(), maxBody: 0)
        _ = reading.requestEnd(trailers: nil)
        _ = reading.admitted()
        _ = reading.leased(reused: false)
        _ = reading.responseHead(self.response)
        guard case .abort(let outcome) = reading.stalled() else { return XCTFail("not closed") }
        XCTAssertEqual(outcome.status, 200)
        var idle = HTTPProxyStateMachine()
        XCTAssertEqual(idle.stalled(), HTTPProxyStateMachine.Action.none)
    }

    func testAnUpgradeAnswerToAPlainRequestIs502() {
        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(), maxBody: 0)
        _ = machine.admitted()
        _ = machine.leased(reused: false)
        guard
            case .reject(let rejection, _) = machine.responseHead(
                HTTPResponseHead(version: .http1_1, status: .switchingProtocols)
            )
        else { return XCTFail("101 relayed") }
        XCTAssertEqual(rejection.status, .badGateway)
    }

    /// An HTTP/2 upstream's interim heads (`103 Early Hints`, `100`) come as heads without an end:
    /// not relayed, the final head is the response (relaying the 103 dropped the 200 and spliced its
    /// body raw; NIO's server pipeline handler traps on a body after an informational head).
    func testInterimHeadsAreNotRelayedAndTheFinalOneIs() {
        var machine = HTTPProxyStateMachine()
        _ = machine.requestHead(self.head(), maxBody: 0)
        _ = machine.admitted()
        _ = machine.leased(reused: false)
        XCTAssertEqual(
            machine.responseHead(HTTPResponseHead(version: .http1_1, status: .custom(code: 103, reasonPhrase: "Early Hints"))),
            HTTPProxyStateMachine.Action.none
        )
        XCTAssertEqual(machine.responseHead(HTTPResponseHead(version: .http1_1, status: .continue)), .none)
        XCTAssertEqual(machine.responseBody(bytes: 1), .none, "no body before the final head")
        guard case .reject(let timeout, _) = machine.responseTimedOut() else { return XCTFail("response_timeout still runs") }
        XCTAssertEqual(timeout.status, .gatewayTimeout)

        var answered = HTTPProxyStateMachine()
        _ = answered.requestHead(self.head(), maxBody: 0)
        _ = answered.admitted()
        _ = answered.leased(reused: false)
        _ = answered.responseHead(HTTPResponseHead(version: .http1_1, status: .custom(code: 103, reasonPhrase: "Early Hints")))
        guard
            case .respond(let head) = answered.responseHead(
                HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "2"])
            )
        else { return XCTFail("the final head is the response") }
        XCTAssertEqual(head.status, .ok)
        XCTAssertEqual(answered.responseBody(bytes: 2), .respondBody)
        guard case .finish(_, _, _, let outcome) = answered.responseEnd(trailers: nil) else { return XCTFail("no finish") }
        XCTAssertEqual(outcome.status, 200)
    }

    func testTheClientLeavingAbortsTheExchange() {
        var machine = HTTPProxyStateMachine()
        XCTAssertEqual(machine.clientClosed(), HTTPProxyStateMachine.Action.none)
        var busy = HTTPProxyStateMachine()
        _ = busy.requestHead(self.head(), maxBody: 0)
        XCTAssertEqual(busy.clientClosed(), .abort(HTTPExchangeOutcome(status: 0)))
    }

    // MARK: The keep-alive pool

    func testThePoolLendsTheLastIdleConnectionAndHonoursItsLimits() {
        var pool = HTTP1ConnectionPoolStateMachine(
            configuration: HTTPPoolConfiguration(maxIdlePerLoop: 2, idleTimeout: .seconds(10), maxRequests: 3)
        )
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        XCTAssertEqual(pool.lease(fresh: false, at: start).lease, .connect)
        pool.connected(1)
        pool.connected(2)
        pool.connected(3)
        XCTAssertTrue(pool.released(1, reusable: true, at: start))
        XCTAssertTrue(pool.released(2, reusable: true, at: start + .seconds(1)))
        XCTAssertFalse(pool.released(3, reusable: true, at: start), "max_idle_per_loop")
        pool.closed(3)
        XCTAssertEqual(pool.lease(fresh: false, at: start + .seconds(2)).lease, .reuse(2), "the last one idle")
        XCTAssertEqual(pool.lease(fresh: true, at: start + .seconds(2)).lease, .connect, "a fresh one asked for")
        let late = pool.lease(fresh: false, at: start + .seconds(10))
        XCTAssertEqual(late.lease, .connect)
        XCTAssertEqual(late.expired, [1], "idle past idle_timeout")
        XCTAssertFalse(pool.released(4, reusable: false, at: start))
        XCTAssertTrue(pool.released(2, reusable: true, at: start + .seconds(3)))
        XCTAssertEqual(pool.lease(fresh: false, at: start + .seconds(3)).lease, .reuse(2))
        XCTAssertFalse(pool.released(2, reusable: true, at: start + .seconds(3)), "max_requests (3) served")
        XCTAssertEqual(pool.figures.reused, 2)
        XCTAssertEqual(pool.figures.connected, 3)
    }

    // MARK: The third encoder

    func testTheHTTPRequestEncoderReserialisesWithTheOnePolicy() throws {
        let request = ForwardedRequest(
            headers: HTTPHeaders([
                ("Host", "app.example"), ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "timeout=5"),
                ("Content-Length", "7"), ("Transfer-Encoding", "chunked"), ("Expect", "100-continue"), ("Cookie", "a=b"),
                ("X-Forwarded-For", "10.0.0.1"), ("Upgrade", "h2c"),
            ]),
            host: "app.example",
            path: "/api/items?x=1",
            client: .init(address: try SocketAddress(ipAddress: "192.0.2.7", port: 5555), scheme: "https")
        )
        let head = ForwardingPolicy().fields(for: request).httpRequestHead(method: .POST, framing: .chunked, authority: "10.0.0.9:8080")
        XCTAssertEqual(head.uri, "/api/items?x=1")
        XCTAssertEqual(head.version, .http1_1)
        XCTAssertEqual(
            head.headers.map { "\($0.name): \($0.value)" },
            [
                "Host: app.example", "Cookie: a=b", "X-Forwarded-For: 10.0.0.1, 192.0.2.7", "X-Forwarded-Proto: https",
                "X-Forwarded-Host: app.example", "Forwarded: for=192.0.2.7;host=app.example;proto=https",
                "Transfer-Encoding: chunked",
            ]
        )
        let empty = ForwardingPolicy().fields(for: request).httpRequestHead(method: .POST, framing: .none, authority: "10.0.0.9:8080")
        XCTAssertEqual(empty.headers["Content-Length"], ["0"])
        XCTAssertEqual(
            ForwardingPolicy().fields(for: request).httpRequestHead(method: .GET, framing: .none, authority: "10.0.0.9:8080").headers["Content-Length"],
            []
        )
    }

    /// `Connection: host` (a hostile or confused client) names no hop-by-hop field: `Host` still
    /// goes, as the route table read it. An HTTP/1.0 request without `Host` gets the endpoint's,
    /// since the upstream leg is HTTP/1.1, where a request without one is 400 (RFC 9112 section 3.2).
    func testHostSurvivesConnectionHostAndAnHTTP10RequestGetsTheEndpoints() throws {
        let client = ForwardedRequest.Client(address: try SocketAddress(ipAddress: "192.0.2.7", port: 5555), scheme: "http")
        let named = ForwardedRequest(
            headers: HTTPHeaders([("Host", "app.example"), ("Connection", "Host, close"), ("Accept", "*/*")]),
            host: "app.example",
            path: "/",
            client: client
        )
        let head = ForwardingPolicy().fields(for: named).httpRequestHead(method: .GET, framing: .none, authority: "10.0.0.9:8080")
        XCTAssertEqual(head.headers["Host"], ["app.example"])
        XCTAssertEqual(head.headers["Connection"], [])

        let hostless = ForwardedRequest(headers: HTTPHeaders([("Accept", "*/*")]), host: nil, path: "/", client: client)
        let fields = ForwardingPolicy().fields(for: hostless)
        XCTAssertEqual(fields.httpRequestHead(method: .GET, framing: .none, authority: "10.0.0.9:8080").headers["Host"], ["10.0.0.9:8080"])
        XCTAssertEqual(fields.forwarding["X-Forwarded-Host"], [], "no client Host to report")
    }
}
