import XCTest

@testable import WSGate

final class WebSocketFrameEventTests: XCTestCase {
    /// Every pipeline step wraps an event in `NIOAny`, an existential that keeps three words inline:
    /// a bigger event would be boxed, one allocation per event and step.
    func testEventFitsAnExistentialInlineBuffer() {
        XCTAssertLessThanOrEqual(MemoryLayout<WebSocketFrameEvent>.size, 3 * MemoryLayout<Int>.size)
    }
}
