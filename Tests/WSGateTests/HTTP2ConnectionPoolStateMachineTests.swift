import NIOCore
import XCTest

@testable import WSGate

/// The pool rules, transition by transition, without I/O.
final class HTTP2ConnectionPoolStateMachineTests: XCTestCase {
    private typealias Machine = HTTP2ConnectionPoolStateMachine

    private func machine(min: Int = 1, max: Int = 4, streams: Int = 100) -> Machine {
        Machine(configuration: .init(minConnections: min, maxConnections: max, maxStreamsPerConnection: streams))
    }

    func testStartOpensTheWarmConnectionsAndNoStreamBeforeSettings() {
        var pool = self.machine(min: 2)
        XCTAssertEqual(pool.start(), [.createConnection(0), .createConnection(1)])
        // A request before any SETTINGS waits: no stream is opened on a starting connection.
        XCTAssertEqual(pool.requestStream(7), [])
        XCTAssertEqual(pool.waiting, [7])
        XCTAssertEqual(pool.connectionReady(0, maxConcurrentStreams: nil, supportsExtendedConnect: true), [.openStream(7, on: 0)])
        XCTAssertEqual(pool.activeStreams, 1)
        XCTAssertTrue(pool.isHealthy)
    }

    func testRequestWithoutWarmConnectionOpensOne() {
        var pool = self.machine(min: 0)
        XCTAssertEqual(pool.start(), [])
        XCTAssertEqual(pool.requestStream(1), [.createConnection(0)])
        XCTAssertEqual(pool.requestStream(2), [], "a connection is already on its way")
        XCTAssertEqual(
            pool.connectionReady(0, maxConcurrentStreams: 10, supportsExtendedConnect: true),
            [.openStream(1, on: 0), .openStream(2, on: 0)]
        )
    }

    func testServerLimitCapsStreamsAndAFullConnectionOpensAnother() {
        var pool = self.machine(min: 1, max: 2, streams: 100)
        _ = pool.start()
        _ = pool.connectionReady(0, maxConcurrentStreams: 2, supportsExtendedConnect: true)
        XCTAssertEqual(pool.requestStream(1), [.openStream(1, on: 0)])
        XCTAssertEqual(pool.requestStream(2), [.openStream(2, on: 0)])
        XCTAssertEqual(pool.requestStream(3), [.createConnection(1)], "all full: a new connection")
        XCTAssertEqual(pool.connectionReady(1, maxConcurrentStreams: 2, supportsExtendedConnect: true), [.openStream(3, on: 1)])
        XCTAssertEqual(pool.requestStream(4), [.openStream(4, on: 1)])
        XCTAssertEqual(pool.requestStream(5), [], "at max_connections_per_loop: wait")
        XCTAssertEqual(pool.streamClosed(0), [.openStream(5, on: 0)], "a freed slot serves the queue")
    }

    func testConfiguredLimitWinsOverALargerServerLimit() {
        var pool = self.machine(min: 1, max: 1, streams: 1)
        _ = pool.start()
        _ = pool.connectionReady(0, maxConcurrentStreams: 1000, supportsExtendedConnect: true)
        XCTAssertEqual(pool.requestStream(1), [.openStream(1, on: 0)])
        XCTAssertEqual(pool.requestStream(2), [])
    }

    func testMaxConcurrentStreamsChangeServesWaitingRequests() {
        var pool = self.machine(min: 1, max: 1)
        _ = pool.start()
        _ = pool.connectionReady(0, maxConcurrentStreams: 1, supportsExtendedConnect: true)
        _ = pool.requestStream(1)
        XCTAssertEqual(pool.requestStream(2), [])
        XCTAssertEqual(pool.maxConcurrentStreamsChanged(0, to: 5), [.openStream(2, on: 0)])
    }

    func testServerWithoutExtendedConnectIsAnEndpointErrorReportedOnce() {
        var pool = self.machine(min: 1)
        _ = pool.start()
        XCTAssertEqual(pool.requestStream(1), [])
        XCTAssertEqual(
            pool.connectionReady(0, maxConcurrentStreams: nil, supportsExtendedConnect: false),
            [
                .closeConnection(0), .reportExtendedConnectUnsupported, .failRequests([1], .extendedConnectUnsupported),
                .scheduleBackoff(.milliseconds(100)),
            ]
        )
        XCTAssertFalse(pool.isHealthy)
        XCTAssertEqual(pool.requestStream(2), [.failRequests([2], .extendedConnectUnsupported)])
        XCTAssertEqual(pool.backoffElapsed(), [.createConnection(1)])
        XCTAssertEqual(
            pool.connectionReady(1, maxConcurrentStreams: nil, supportsExtendedConnect: false),
            [.closeConnection(1), .scheduleBackoff(.milliseconds(200))],
            "reported once, not at every attempt"
        )
    }

    func testConnectFailureBacksOffExponentiallyAndFailsWaitingRequests() {
        var pool = self.machine(min: 1)
        _ = pool.start()
        _ = pool.requestStream(1)
        XCTAssertEqual(pool.connectFailed(0), [.failRequests([1], .unreachable), .scheduleBackoff(.milliseconds(100))])
        XCTAssertFalse(pool.isHealthy)
        XCTAssertEqual(pool.requestStream(2), [.failRequests([2], .unreachable)], "in back-off: try another endpoint now")
        XCTAssertEqual(pool.backoffElapsed(), [.createConnection(1)])
        XCTAssertEqual(pool.connectFailed(1), [.scheduleBackoff(.milliseconds(200))])
        XCTAssertEqual(pool.backoffElapsed(), [.createConnection(2)])
        XCTAssertEqual(pool.connectFailed(2), [.scheduleBackoff(.milliseconds(400))])
        XCTAssertEqual(Machine.backoff(afterFailures: 40), .seconds(30))
        // Recovery: the endpoint is healthy again once a connection is ready.
        XCTAssertEqual(pool.backoffElapsed(), [.createConnection(3)])
        XCTAssertEqual(pool.connectionReady(3, maxConcurrentStreams: nil, supportsExtendedConnect: true), [])
        XCTAssertTrue(pool.isHealthy)
        XCTAssertEqual(pool.requestStream(4), [.openStream(4, on: 3)])
    }

    func testBackoffProbesEvenWithoutWarmConnections() {
        var pool = self.machine(min: 0)
        XCTAssertEqual(pool.requestStream(1), [.createConnection(0)])
        XCTAssertEqual(pool.connectFailed(0), [.failRequests([1], .unreachable), .scheduleBackoff(.milliseconds(100))])
        XCTAssertEqual(pool.backoffElapsed(), [.createConnection(1)])
    }

    func testGoAwayDrainsAndOpensAReplacement() {
        var pool = self.machine(min: 1)
        _ = pool.start()
        _ = pool.connectionReady(0, maxConcurrentStreams: nil, supportsExtendedConnect: true)
        _ = pool.requestStream(1)
        _ = pool.requestStream(2)
        XCTAssertEqual(pool.goAwayReceived(0), [.createConnection(1)])
        XCTAssertEqual(pool.connections.first?.state, .draining(openStreams: 2))
        XCTAssertEqual(pool.requestStream(3), [], "no new stream on a draining connection")
        XCTAssertEqual(pool.connectionReady(1, maxConcurrentStreams: nil, supportsExtendedConnect: true), [.openStream(3, on: 1)])
        XCTAssertEqual(pool.streamClosed(0), [])
        XCTAssertEqual(pool.streamClosed(0), [.closeConnection(0)], "closed once its last stream ends")
        XCTAssertEqual(pool.activeStreams, 1)
    }

    func testGoAwayOnAnIdleConnectionClosesIt() {
        var pool = self.machine(min: 1)
        _ = pool.start()
        _ = pool.connectionReady(0, maxConcurrentStreams: nil, supportsExtendedConnect: true)
        XCTAssertEqual(pool.goAwayReceived(0), [.closeConnection(0), .createConnection(1)])
    }

    func testLostConnectionIsReplaced() {
        var pool = self.machine(min: 1)
        _ = pool.start()
        _ = pool.connectionReady(0, maxConcurrentStreams: nil, supportsExtendedConnect: true)
        _ = pool.requestStream(1)
        XCTAssertEqual(pool.connectionClosed(0), [.createConnection(1)])
        XCTAssertEqual(pool.activeStreams, 0)
        XCTAssertTrue(pool.isHealthy, "a lost connection alone is no connect failure")
        XCTAssertEqual(pool.streamClosed(0), [], "late stream ends of a gone connection are ignored")
    }

    func testConnectionLostBeforeSettingsCountsAsConnectFailure() {
        var pool = self.machine(min: 1)
        _ = pool.start()
        XCTAssertEqual(pool.connectionClosed(0), [.scheduleBackoff(.milliseconds(100))])
        XCTAssertFalse(pool.isHealthy)
    }

    func testExtraConnectionClosesAfterIdleTimeout() {
        var pool = self.machine(min: 1, max: 2, streams: 1)
        _ = pool.start()
        _ = pool.connectionReady(0, maxConcurrentStreams: nil, supportsExtendedConnect: true)
        _ = pool.requestStream(1)
        XCTAssertEqual(pool.requestStream(2), [.createConnection(1)])
        _ = pool.connectionReady(1, maxConcurrentStreams: nil, supportsExtendedConnect: true)
        XCTAssertEqual(pool.streamClosed(1), [.scheduleIdleTimeout(1)], "an empty extra connection starts its timer")
        XCTAssertEqual(pool.idleTimeoutFired(1), [.closeConnection(1)])
        XCTAssertEqual(pool.streamClosed(0), [], "the warm connection is kept")
        XCTAssertEqual(pool.idleTimeoutFired(0), [])
    }

    func testIdleTimerOfAConnectionThatTookAStreamAgainDoesNothing() {
        var pool = self.machine(min: 0, max: 1)
        _ = pool.requestStream(1)
        _ = pool.connectionReady(0, maxConcurrentStreams: nil, supportsExtendedConnect: true)
        XCTAssertEqual(pool.streamClosed(0), [.scheduleIdleTimeout(0)])
        XCTAssertEqual(pool.requestStream(2), [.openStream(2, on: 0)])
        XCTAssertEqual(pool.idleTimeoutFired(0), [])
    }

    func testCancelledRequestLeavesTheQueue() {
        var pool = self.machine(min: 1, max: 1, streams: 1)
        _ = pool.start()
        _ = pool.connectionReady(0, maxConcurrentStreams: nil, supportsExtendedConnect: true)
        _ = pool.requestStream(1)
        _ = pool.requestStream(2)
        pool.cancelRequest(2)
        XCTAssertEqual(pool.streamClosed(0), [])
    }

    func testShutdownFailsWaitersClosesIdleAndDrainsBusyConnections() {
        var pool = self.machine(min: 2, max: 3, streams: 1)
        _ = pool.start()
        _ = pool.connectionReady(0, maxConcurrentStreams: nil, supportsExtendedConnect: true)
        _ = pool.requestStream(1)
        _ = pool.requestStream(2)
        XCTAssertEqual(pool.shutdown(), [.failRequests([2], .shutdown)], "the busy connection drains")
        XCTAssertEqual(pool.connectionReady(1, maxConcurrentStreams: nil, supportsExtendedConnect: true), [.closeConnection(1)])
        XCTAssertEqual(pool.streamClosed(0), [.closeConnection(0)])
        XCTAssertEqual(pool.requestStream(3), [.failRequests([3], .shutdown)])
        XCTAssertEqual(pool.connections.count, 0)
    }

    func testConnectFailureDuringShutdownSchedulesNoBackoff() {
        var pool = self.machine(min: 1)
        _ = pool.start()
        _ = pool.shutdown()
        XCTAssertEqual(pool.connectFailed(0), [])
        XCTAssertEqual(pool.backoffElapsed(), [])
    }
}
