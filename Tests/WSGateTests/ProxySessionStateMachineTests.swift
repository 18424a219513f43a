import XCTest

@testable import WSGate

final class ProxySessionStateMachineTests: XCTestCase {
    func testClientCloseIsRelayedVerbatim() {
        var machine = ProxySessionStateMachine()
        let status = WebSocketCloseStatus(code: WebSocketCloseCode(rawValue: 4000), reason: "done")
        XCTAssertEqual(machine.legEnded(.client, .close(status)), .close(.upstream, status))
        XCTAssertEqual(machine.ending?.side, .client)
        XCTAssertEqual(machine.legEnded(.upstream, .close(status)), .none)
        XCTAssertTrue(machine.isFinished)
    }

    func testUpstreamCloseWithoutCodeIsRelayedWithoutCode() {
        var machine = ProxySessionStateMachine()
        XCTAssertEqual(
            machine.legEnded(.upstream, .close(WebSocketCloseStatus(code: nil))),
            .close(.client, WebSocketCloseStatus(code: nil))
        )
        XCTAssertEqual(machine.ending?.side, .upstream)
    }

    func testUpstreamVanishingGives1014ToTheClient() {
        var machine = ProxySessionStateMachine()
        let action = machine.legEnded(.upstream, .failed(.connectionLost("connection lost")))
        XCTAssertEqual(action, .close(.client, WebSocketCloseStatus(code: .badGateway, reason: "upstream connection lost")))
        XCTAssertEqual(machine.ending?.side, .upstream)
    }

    func testClientProtocolErrorGives1001ToTheUpstreamAndCountsAsGateway() {
        var machine = ProxySessionStateMachine()
        guard
            case .close(.upstream, let status) = machine.legEnded(
                .client,
                .failed(.protocolViolation(WebSocketProtocolError(.invalidPayload, "bad utf-8")))
            )
        else {
            return XCTFail("upstream not closed")
        }
        XCTAssertEqual(status.code, .goingAway)
        XCTAssertEqual(machine.ending?.side, .gateway)
        XCTAssertEqual(machine.ending?.status.code, .invalidPayload)
    }

    /// Who ended the session and the code counted come from how the first leg ended: a close frame
    /// without a code is 1005, a lost connection 1006 (both the peer's), a silent peer the gateway's 1001.
    func testEndingIsReadFromTheReason() {
        var closed = ProxySessionStateMachine()
        _ = closed.legEnded(.client, .close(WebSocketCloseStatus(code: nil)))
        XCTAssertEqual(closed.ending?.closeCode, 1005)
        XCTAssertEqual(closed.ending?.side, .client)
        var lost = ProxySessionStateMachine()
        _ = lost.legEnded(.upstream, .failed(.connectionLost("connection lost")))
        XCTAssertEqual(lost.ending?.closeCode, 1006)
        XCTAssertEqual(lost.ending?.side, .upstream)
        var silent = ProxySessionStateMachine()
        XCTAssertEqual(
            silent.legEnded(.client, .failed(.pingTimeout)),
            .close(
                .upstream,
                WebSocketCloseStatus(code: .goingAway, reason: "client protocol error (1001 peer did not answer ping)")
            )
        )
        XCTAssertEqual(silent.ending?.closeCode, 1001)
        XCTAssertEqual(silent.ending?.side, .gateway)
    }

    func testGatewayCloseClosesEveryOpenLegOnce() {
        var machine = ProxySessionStateMachine()
        let idle = WebSocketCloseStatus(code: .goingAway, reason: "idle timeout")
        let slow = WebSocketCloseStatus(code: .policyViolation, reason: "slow")
        XCTAssertEqual(machine.gatewayClose(client: slow, upstream: idle), [.close(.client, slow), .close(.upstream, idle)])
        XCTAssertEqual(machine.gatewayClose(client: idle, upstream: idle), [])
        XCTAssertEqual(machine.legEnded(.client, .close(idle)), .none)
    }
}
