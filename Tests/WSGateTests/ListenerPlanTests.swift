import XCTest

@testable import WSGate

/// Which listeners a reload keeps, closes and binds.
final class ListenerPlanTests: XCTestCase {
    private func listener(_ name: String, _ host: String, _ port: Int, tls: Bool = false) -> ListenerConfiguration {
        ListenerConfiguration(
            name: name,
            address: SocketAddressSpec(host: host, port: port),
            tls: tls ? ListenerTLSConfiguration(certificates: .selfSigned) : nil
        )
    }

    func testUnchangedListenersStayBoundAndOthersAreAddedOrRemoved() {
        let plan = ListenerPlan(
            bound: [self.listener("public", "127.0.0.1", 8080), self.listener("old", "127.0.0.1", 8081)],
            wanted: [self.listener("public", "127.0.0.1", 8080), self.listener("new", "127.0.0.1", 8082)]
        )
        XCTAssertEqual(plan.kept, ["public"])
        XCTAssertEqual(plan.removed, ["old"])
        XCTAssertEqual(plan.added, [self.listener("new", "127.0.0.1", 8082)])
        XCTAssertEqual(plan.addedAfterClose, [])
    }

    func testHostCaseDoesNotMatterAndEphemeralPortsAreKept() {
        let plan = ListenerPlan(
            bound: [self.listener("a", "LOCALHOST", 8080), self.listener("b", "127.0.0.1", 0)],
            wanted: [self.listener("a", "localhost", 8080), self.listener("b", "127.0.0.1", 0)]
        )
        XCTAssertEqual(plan.kept, ["a", "b"])
        XCTAssertEqual(plan.removed, [])
        XCTAssertEqual(plan.added, [])
    }

    func testARenameOrAKindChangeOnTheSameAddressIsBoundAfterTheOldOneCloses() {
        let plan = ListenerPlan(
            bound: [self.listener("a", "127.0.0.1", 8080), self.listener("b", "127.0.0.1", 8443)],
            wanted: [self.listener("renamed", "127.0.0.1", 8080), self.listener("b", "127.0.0.1", 8443, tls: true)]
        )
        XCTAssertEqual(plan.kept, [])
        XCTAssertEqual(Set(plan.removed), ["a", "b"])
        XCTAssertEqual(plan.added, [])
        XCTAssertEqual(plan.addedAfterClose.map(\.name), ["renamed", "b"])
    }

    func testAMovedListenerIsRemovedAndAdded() {
        let plan = ListenerPlan(
            bound: [self.listener("public", "127.0.0.1", 8080)],
            wanted: [self.listener("public", "127.0.0.1", 9090)]
        )
        XCTAssertEqual(plan.kept, [])
        XCTAssertEqual(plan.removed, ["public"])
        XCTAssertEqual(plan.added.map(\.address.port), [9090])
    }
}
