import XCTest

@testable import WSGate

final class MemoryBudgetTests: XCTestCase {
    func testPressureFollowsTheShareOfTheBudgetInUse() {
        let budget = MemoryBudget(limit: 1000)
        XCTAssertEqual(budget.pressure(used: 0), .normal)
        XCTAssertEqual(budget.pressure(used: 749), .normal)
        XCTAssertEqual(budget.pressure(used: 750), .near)
        XCTAssertEqual(budget.pressure(used: 900), .full)
        XCTAssertEqual(budget.pressure(used: 1000), .full)
        XCTAssertEqual(budget.pressure(used: 1001), .over)
        XCTAssertEqual(budget.excess(used: 1200), 200)
        XCTAssertEqual(MemoryBudget(limit: 0).pressure(used: .max), .normal, "0: no budget")
    }

    func testSessionsHoldingMostAreClosedFirstUntilEnoughIsFreed() {
        let holding: [(id: UInt64, bytes: Int)] = [(1, 100), (2, 5000), (3, 0), (4, 3000), (5, 3000)]
        XCTAssertEqual(MemoryBudget.sessionsToClose(holding: holding, excess: 0), [])
        XCTAssertEqual(MemoryBudget.sessionsToClose(holding: holding, excess: 4000), [2])
        XCTAssertEqual(MemoryBudget.sessionsToClose(holding: holding, excess: 6000), [2, 4], "ties: the older session first")
        XCTAssertEqual(MemoryBudget.sessionsToClose(holding: holding, excess: 1_000_000), [2, 4, 5, 1], "never one that holds nothing")
    }
}
