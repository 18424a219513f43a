import NIOCore
import NIOEmbedded
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
        XCTAssertEqual(
            MemoryBudget.sessionsToClose(holding: holding, excess: 1_000_000),
            [2, 4, 5, 1],
            "never one that holds nothing"
        )
    }

    /// The budget's zlib figure is what the CZlib shim's counting allocator counted on the loop (the
    /// reason the gateway keeps its own zlib shim), not an estimate.
    func testTheSampledZlibMemoryIsTheLoopsCountingAllocator() throws {
        let loop = EmbeddedEventLoop()
        let memory = GatewayMemory(budget: MemoryBudget(limit: 0))
        let services = GatewayServices(memory: memory, accessLog: nil)
        let counter = GatewayLoopState.current(for: services).compression.memory
        let inflater = ZlibInflater(windowBits: 15, memory: counter)
        // "Hello", compressed (RFC 7692 section 7.2.3.1).
        var input = ByteBuffer(bytes: [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
        XCTAssertTrue(try inflater.inflate(&input, chunkSize: 1024, allocator: ByteBufferAllocator()) { _ in true })
        XCTAssertGreaterThan(counter.bytesInUse, 1 << 15, "an inflater holds its 32 KiB window")

        memory.start(group: loop, services: services)
        defer { memory.stop() }
        loop.advanceTime(by: GatewayMemory.interval)
        XCTAssertEqual(memory.used.zlib, counter.bytesInUse)
        inflater.release()
        loop.advanceTime(by: GatewayMemory.interval)
        XCTAssertEqual(memory.used.zlib, 0)
    }
}
