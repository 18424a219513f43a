import NIOCore
import XCTest

@testable import WSGate

final class BackpressureStateMachineTests: XCTestCase {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func testPauseLongerThanMaxStallReachesTheLimitOnce() {
        var machine = BackpressureStateMachine(maxStall: .seconds(2), maxBuffered: 1000)
        XCTAssertEqual(
            machine.writabilityChanged(.client, isWritable: false, bufferedBytes: 10, now: self.start),
            .scheduleCheck(.client, self.start + .seconds(2))
        )
        XCTAssertTrue(machine.isPaused(.client))
        XCTAssertFalse(machine.isPaused(.upstream))
        XCTAssertEqual(
            machine.check(.client, bufferedBytes: 10, now: self.start + .seconds(1)),
            .scheduleCheck(.client, self.start + .seconds(2))
        )
        XCTAssertEqual(machine.check(.client, bufferedBytes: 10, now: self.start + .seconds(2)), .limitReached(.client))
        XCTAssertEqual(machine.check(.client, bufferedBytes: 10, now: self.start + .seconds(3)), .none)
    }

    func testResumingInTimeClearsThePause() {
        var machine = BackpressureStateMachine(maxStall: .seconds(2), maxBuffered: 1000)
        _ = machine.writabilityChanged(.upstream, isWritable: false, bufferedBytes: 10, now: self.start)
        XCTAssertEqual(
            machine.writabilityChanged(.upstream, isWritable: true, bufferedBytes: 0, now: self.start + .seconds(1)),
            .none
        )
        XCTAssertEqual(machine.check(.upstream, bufferedBytes: 0, now: self.start + .seconds(5)), .none)
        // A new pause is measured from its own start.
        XCTAssertEqual(
            machine.writabilityChanged(.upstream, isWritable: false, bufferedBytes: 10, now: self.start + .seconds(6)),
            .scheduleCheck(.upstream, self.start + .seconds(8))
        )
    }

    func testOverTheHardCeilingIsImmediate() {
        var machine = BackpressureStateMachine(maxStall: .seconds(30), maxBuffered: 1000)
        XCTAssertEqual(
            machine.writabilityChanged(.client, isWritable: false, bufferedBytes: 1001, now: self.start),
            .limitReached(.client)
        )
    }
}

final class MessageRateLimiterTests: XCTestCase {
    func testAllowsTheLimitPerSecondWindow() {
        let start = NIODeadline.uptimeNanoseconds(0)
        var limiter = MessageRateLimiter(limit: 3, now: start)
        XCTAssertEqual((0..<4).map { _ in limiter.allowMessage(at: start + .milliseconds(100)) }, [true, true, true, false])
        XCTAssertTrue(limiter.allowMessage(at: start + .milliseconds(1100)), "a new window starts")
    }
}

final class RequestHeadSizeLimiterTests: XCTestCase {
    func testFindsTheEndOfTheHeadAcrossChunks() {
        var limiter = RequestHeadSizeLimiter(limit: 100)
        XCTAssertEqual(limiter.feed(Array("GET / HTTP/1.1\r\nHost: a\r".utf8)), .needMore)
        XCTAssertEqual(limiter.feed(Array("\n\r".utf8)), .needMore)
        XCTAssertEqual(limiter.feed(Array("\nrest".utf8)), .complete)
    }

    func testBareNewlinesDoNotEndTheHead() {
        var limiter = RequestHeadSizeLimiter(limit: 100)
        XCTAssertEqual(limiter.feed(Array("GET / HTTP/1.1\n\nHost: a\r\r\n".utf8)), .needMore)
        XCTAssertEqual(limiter.feed(Array("\r\n".utf8)), .complete)
    }

    func testRefusesAHeadOverTheLimit() {
        var limiter = RequestHeadSizeLimiter(limit: 10)
        XCTAssertEqual(limiter.feed(Array("GET /".utf8)), .needMore)
        XCTAssertEqual(limiter.feed(Array("0123456789".utf8)), .tooLarge)
    }
}
