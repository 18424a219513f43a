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
        XCTAssertEqual(machine.legEnded(.upstream, .close(WebSocketCloseStatus(code: nil))), .close(.client, WebSocketCloseStatus(code: nil)))
        XCTAssertEqual(machine.ending?.side, .upstream)
    }

    func testUpstreamVanishingGives1014ToTheClient() {
        var machine = ProxySessionStateMachine()
        let action = machine.legEnded(.upstream, .failed(WebSocketCloseStatus(code: nil, reason: "connection lost")))
        XCTAssertEqual(action, .close(.client, WebSocketCloseStatus(code: .badGateway, reason: "upstream connection lost")))
        XCTAssertEqual(machine.ending?.side, .upstream)
    }

    func testClientProtocolErrorGives1001ToTheUpstreamAndCountsAsGateway() {
        var machine = ProxySessionStateMachine()
        guard case .close(.upstream, let status) = machine.legEnded(.client, .failed(WebSocketCloseStatus(code: .invalidPayload, reason: "bad utf-8"))) else {
            return XCTFail("upstream not closed")
        }
        XCTAssertEqual(status.code, .goingAway)
        XCTAssertEqual(machine.ending?.side, .gateway)
        XCTAssertEqual(machine.ending?.status.code, .invalidPayload)
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
