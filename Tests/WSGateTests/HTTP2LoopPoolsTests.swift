import Logging
import NIOCore
import NIOEmbedded
import XCTest

@testable import WSGate

/// How a new session orders an upstream's endpoints on its loop (`balance`).
final class HTTP2LoopPoolsTests: XCTestCase {
    private func pools(_ balance: UpstreamBalance, loop: EmbeddedEventLoop) throws -> HTTP2LoopPools {
        let endpoints = try ["127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"].map { text in
            try SocketAddressSpec.parse(text)
        }
        return HTTP2LoopPools(
            pools: endpoints.map { endpoint in
                HTTP2ConnectionPool(
                    settings: HTTP2PoolSettings(
                        upstream: "app",
                        endpoint: endpoint,
                        tls: nil,
                        connectTimeout: .seconds(1),
                        pool: HTTP2PoolConfiguration(),
                        logger: Logger(label: "test")
                    ),
                    eventLoop: loop
                )
            },
            balance: balance
        )
    }

    private func order(_ pools: HTTP2LoopPools) -> [Int] {
        pools.candidates().map { $0.settings.endpoint.port }
    }

    func testRoundRobinRotatesTheFirstEndpoint() throws {
        let loop = EmbeddedEventLoop()
        let pools = try self.pools(.roundRobin, loop: loop)
        XCTAssertEqual(self.order(pools), [9001, 9002, 9003])
        XCTAssertEqual(self.order(pools), [9002, 9003, 9001])
        XCTAssertEqual(self.order(pools), [9003, 9001, 9002])
        XCTAssertEqual(self.order(pools), [9001, 9002, 9003])
    }

    func testLeastConnectionsKeepsTheRotationAmongEqualCounts() throws {
        let loop = EmbeddedEventLoop()
        let pools = try self.pools(.leastConnections, loop: loop)
        XCTAssertEqual(self.order(pools), [9001, 9002, 9003])
        XCTAssertEqual(self.order(pools), [9002, 9003, 9001])
    }
}
