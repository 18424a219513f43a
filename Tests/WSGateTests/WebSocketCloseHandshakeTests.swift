import XCTest

@testable import WSGate

final class WebSocketCloseHandshakeTests: XCTestCase {
    private let normal = WebSocketCloseStatus(code: .normalClosure, reason: "bye")

    func testPeerInitiatedCloseIsEchoedThenConnectionCloses() {
        var handshake = WebSocketCloseHandshake()
        XCTAssertEqual(handshake.peerClosed(self.normal), .sendClose(self.normal, thenClose: true))
        XCTAssertEqual(handshake.state, .closed)
        XCTAssertEqual(handshake.close(self.normal), .none)
    }

    func testLocalCloseWaitsForTheAnswer() {
        var handshake = WebSocketCloseHandshake()
        XCTAssertEqual(handshake.close(self.normal), .sendClose(self.normal, thenClose: false))
        XCTAssertEqual(handshake.state, .closeSent)
        XCTAssertEqual(handshake.close(self.normal), .none, "a second close is not sent")
        XCTAssertEqual(handshake.peerClosed(WebSocketCloseStatus(code: .normalClosure)), .closeConnection)
        XCTAssertEqual(handshake.state, .closed)
    }

    func testFailureSendsItsCodeOnce() {
        var handshake = WebSocketCloseHandshake()
        let error = WebSocketCloseStatus(code: .protocolError, reason: "bad")
        XCTAssertEqual(handshake.fail(error), .sendClose(error, thenClose: true))
        XCTAssertEqual(handshake.fail(error), .none)
        XCTAssertEqual(handshake.peerClosed(self.normal), .none)
    }

    func testFailureAfterCloseSentJustCloses() {
        var handshake = WebSocketCloseHandshake()
        _ = handshake.close(self.normal)
        XCTAssertEqual(handshake.fail(WebSocketCloseStatus(code: .protocolError)), .closeConnection)
    }
}
