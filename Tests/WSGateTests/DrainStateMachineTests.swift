import XCTest

@testable import WSGate

/// The graceful shutdown's steps, without I/O.
final class DrainStateMachineTests: XCTestCase {
    private let configuration = ShutdownConfiguration(grace: .seconds(2), timeout: .seconds(10))

    func testSessionsStillOpenAfterTheGraceGetCloseThenFinish() {
        var machine = DrainStateMachine()
        XCTAssertEqual(machine.phase, .serving)
        XCTAssertEqual(machine.shutdownRequested(self.configuration), .stopAccepting(wait: .seconds(2)))
        XCTAssertEqual(machine.phase, .draining)
        XCTAssertEqual(
            machine.waitEnded(allSessionsEnded: false),
            .closeSessions(WebSocketCloseStatus(code: .goingAway, reason: "gateway shutting down"), wait: .seconds(10))
        )
        XCTAssertEqual(machine.phase, .closing)
        XCTAssertEqual(machine.waitEnded(allSessionsEnded: true), .finish(sessionsLeft: false))
        XCTAssertEqual(machine.phase, .stopped)
    }

    func testSessionsThatEndDuringTheGraceSkipTheCloses() {
        var machine = DrainStateMachine()
        _ = machine.shutdownRequested(self.configuration)
        XCTAssertEqual(machine.waitEnded(allSessionsEnded: true), .finish(sessionsLeft: false))
        XCTAssertEqual(machine.phase, .stopped)
    }

    func testHandshakesStillOpenAtTheTimeoutAreReported() {
        var machine = DrainStateMachine()
        _ = machine.shutdownRequested(self.configuration)
        _ = machine.waitEnded(allSessionsEnded: false)
        XCTAssertEqual(machine.waitEnded(allSessionsEnded: false), .finish(sessionsLeft: true))
    }

    func testRepeatedRequestsAndLateEventsDoNothing() {
        var machine = DrainStateMachine()
        XCTAssertEqual(machine.waitEnded(allSessionsEnded: true), .none, "no wait pending while serving")
        XCTAssertEqual(machine.phase, .serving)
        _ = machine.shutdownRequested(self.configuration)
        XCTAssertEqual(machine.shutdownRequested(self.configuration), .none)
        _ = machine.waitEnded(allSessionsEnded: false)
        XCTAssertEqual(machine.shutdownRequested(self.configuration), .none)
        _ = machine.waitEnded(allSessionsEnded: true)
        XCTAssertEqual(machine.waitEnded(allSessionsEnded: true), .none)
        XCTAssertEqual(machine.shutdownRequested(self.configuration), .none)
        XCTAssertEqual(machine.phase, .stopped)
    }

    func testZeroGraceAndTimeoutAreImmediateWaits() {
        var machine = DrainStateMachine()
        let immediate = ShutdownConfiguration(grace: .zero, timeout: .zero)
        XCTAssertEqual(machine.shutdownRequested(immediate), .stopAccepting(wait: .zero))
        XCTAssertEqual(
            machine.waitEnded(allSessionsEnded: false),
            .closeSessions(DrainStateMachine.shutdownStatus, wait: .zero)
        )
    }
}
