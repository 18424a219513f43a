import NIOCore
import NIOHTTP1
import XCTest

@testable import WSGate

/// How a session's leg is opened, transition by transition, without I/O: the endpoints' order
/// (`balance`), health and back-off, failover and the one retry. The same rules for every transport.
final class UpstreamOpenerStateMachineTests: XCTestCase {
    private typealias Machine = UpstreamOpenerStateMachine

    private let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private let unreachable = UpstreamError(.unreachable, "connect refused")

    // Ported from HTTP2LoopPoolsTests (the per-loop balancer of `websocket-h2`), same orders.

    func testRoundRobinRotatesTheFirstEndpoint() {
        var machine = Machine(endpointCount: 3, balance: .roundRobin)
        XCTAssertEqual(machine.nextOrder(at: self.now), [0, 1, 2])
        XCTAssertEqual(machine.nextOrder(at: self.now), [1, 2, 0])
        XCTAssertEqual(machine.nextOrder(at: self.now), [2, 0, 1])
        XCTAssertEqual(machine.nextOrder(at: self.now), [0, 1, 2])
    }

    func testLeastConnectionsKeepsTheRotationAmongEqualCounts() {
        var machine = Machine(endpointCount: 3, balance: .leastConnections)
        XCTAssertEqual(machine.nextOrder(at: self.now), [0, 1, 2])
        XCTAssertEqual(machine.nextOrder(at: self.now), [1, 2, 0])
    }

    // The opening.

    func testLeastConnectionsSendsNewSessionsAwayFromABusyEndpoint() {
        var machine = Machine(endpointCount: 2, balance: .leastConnections)
        XCTAssertEqual(machine.openRequested(1, at: self.now), .attempt(1, endpoint: 0))
        XCTAssertEqual(machine.attemptSucceeded(1), .succeed(1, endpoint: 0))
        // Endpoint 0 holds a session: every new one goes to 1, whatever the rotation says.
        for id in 2...4 {
            XCTAssertEqual(machine.openRequested(id, at: self.now), .attempt(id, endpoint: 1))
            XCTAssertEqual(machine.attemptSucceeded(id), .succeed(id, endpoint: 1))
            machine.legClosed(endpoint: 1)
        }
        XCTAssertEqual(machine.endpoints.map(\.activeLegs), [1, 0])
        machine.legClosed(endpoint: 0)
        XCTAssertEqual(machine.openRequested(5, at: self.now), .attempt(5, endpoint: 0), "equal again: the rotation decides")
    }

    func testLeastConnectionsCountsOpeningsOnTheirWay() {
        var machine = Machine(endpointCount: 2, balance: .leastConnections)
        XCTAssertEqual(machine.openRequested(1, at: self.now), .attempt(1, endpoint: 0))
        XCTAssertEqual(machine.openRequested(2, at: self.now), .attempt(2, endpoint: 1))
        XCTAssertEqual(machine.openRequested(3, at: self.now), .attempt(3, endpoint: 0), "a burst spreads before any answer")
        XCTAssertEqual(
            machine.attemptFailed(3, .final(UpstreamError(.handshakeFailed, "x")), at: self.now),
            .fail(3, UpstreamError(.handshakeFailed, "x"))
        )
        XCTAssertEqual(machine.endpoints.map(\.activeLegs), [1, 1], "a failed attempt is no session")
    }

    func testRoundRobinIgnoresTheSessionCounts() {
        var machine = Machine(endpointCount: 2, balance: .roundRobin)
        XCTAssertEqual(machine.openRequested(1, at: self.now), .attempt(1, endpoint: 0))
        XCTAssertEqual(machine.attemptSucceeded(1), .succeed(1, endpoint: 0))
        XCTAssertEqual(machine.openRequested(2, at: self.now), .attempt(2, endpoint: 1))
        XCTAssertEqual(machine.openRequested(3, at: self.now), .attempt(3, endpoint: 0))
    }

    func testUnreachableEndpointPassesTheOpeningOnAndGoesIntoBackoff() {
        var machine = Machine(endpointCount: 3, balance: .roundRobin)
        XCTAssertEqual(machine.openRequested(1, at: self.now), .attempt(1, endpoint: 0))
        XCTAssertEqual(machine.attemptFailed(1, .unreachable(self.unreachable), at: self.now), .attempt(1, endpoint: 1))
        XCTAssertEqual(machine.attemptSucceeded(1), .succeed(1, endpoint: 1))
        XCTAssertFalse(machine.endpoints[0].isHealthy(at: self.now))
        // The rotation would start at 1 then 2 then 0: the endpoint in back-off comes last meanwhile.
        XCTAssertEqual(machine.nextOrder(at: self.now + .milliseconds(99)), [1, 2, 0])
        XCTAssertEqual(machine.nextOrder(at: self.now + .milliseconds(99)), [2, 1, 0])
        // Back-off over: it takes its turn again.
        XCTAssertEqual(machine.nextOrder(at: self.now + .milliseconds(100)), [0, 1, 2])
    }

    func testBackoffDoublesPerFailureInARowAndOneSuccessEndsIt() {
        var machine = Machine(endpointCount: 1, balance: .roundRobin)
        var at = self.now
        for (id, backoff) in [(1, 100), (2, 200), (3, 400)] {
            XCTAssertEqual(
                machine.openRequested(id, at: at),
                .attempt(id, endpoint: 0),
                "the only endpoint is tried even in back-off"
            )
            XCTAssertEqual(machine.attemptFailed(id, .unreachable(self.unreachable), at: at), .fail(id, self.unreachable))
            XCTAssertEqual(machine.endpoints[0].backoffEnds, at + .milliseconds(Int64(backoff)))
            at = at + .milliseconds(1)
        }
        XCTAssertEqual(machine.openRequested(4, at: at), .attempt(4, endpoint: 0))
        XCTAssertEqual(machine.attemptSucceeded(4), .succeed(4, endpoint: 0))
        XCTAssertTrue(machine.endpoints[0].isHealthy(at: at))
        XCTAssertEqual(Machine.backoff(afterFailures: 20), .seconds(30))
    }

    func testEveryEndpointUnreachableFailsWithTheLastError() {
        var machine = Machine(endpointCount: 2, balance: .roundRobin)
        let second = UpstreamError(.unreachable, "second")
        XCTAssertEqual(machine.openRequested(1, at: self.now), .attempt(1, endpoint: 0))
        XCTAssertEqual(machine.attemptFailed(1, .unreachable(self.unreachable), at: self.now), .attempt(1, endpoint: 1))
        XCTAssertEqual(machine.attemptFailed(1, .unreachable(second), at: self.now), .fail(1, second))
        XCTAssertEqual(machine.endpoints.map(\.activeLegs), [0, 0])
    }

    func testAnAnswerIsFinal() {
        var machine = Machine(endpointCount: 2, balance: .roundRobin)
        let refused = UpstreamError(.refused(status: .forbidden), "403")
        XCTAssertEqual(machine.openRequested(1, at: self.now), .attempt(1, endpoint: 0))
        XCTAssertEqual(machine.attemptFailed(1, .final(refused), at: self.now), .fail(1, refused))
        XCTAssertTrue(machine.endpoints[0].isHealthy(at: self.now), "an endpoint that answers is up")
    }

    func testRefusalBeforeAnswerIsTriedAgainOnceOnAnotherEndpoint() {
        var machine = Machine(endpointCount: 2, balance: .roundRobin)
        let refused = UpstreamError(.streamRefused, "REFUSED_STREAM")
        XCTAssertEqual(machine.openRequested(1, at: self.now), .attempt(1, endpoint: 0))
        XCTAssertEqual(machine.attemptFailed(1, .refusedBeforeAnswer(refused), at: self.now), .attempt(1, endpoint: 1))
        XCTAssertEqual(machine.attemptFailed(1, .refusedBeforeAnswer(refused), at: self.now), .fail(1, refused), "only once")
        XCTAssertEqual(machine.endpoints.map(\.failuresInARow), [0, 0], "a refusal is no sign of a down endpoint")
    }

    func testRefusalBeforeAnswerWithOneEndpointRetriesIt() {
        var machine = Machine(endpointCount: 1, balance: .roundRobin)
        let refused = UpstreamError(.streamRefused, "REFUSED_STREAM")
        XCTAssertEqual(machine.openRequested(1, at: self.now), .attempt(1, endpoint: 0))
        XCTAssertEqual(machine.attemptFailed(1, .refusedBeforeAnswer(refused), at: self.now), .attempt(1, endpoint: 0))
        XCTAssertEqual(machine.attemptSucceeded(1), .succeed(1, endpoint: 0))
        XCTAssertEqual(machine.endpoints[0].activeLegs, 1)
    }

    func testUpstreamWithoutEndpointsFails() {
        var machine = Machine(endpointCount: 0, balance: .leastConnections)
        guard case .fail(1, let error) = machine.openRequested(1, at: self.now) else { return XCTFail("expected a failure") }
        XCTAssertEqual(error.kind, .unreachable)
    }
}
