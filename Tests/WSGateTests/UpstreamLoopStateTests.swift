import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest

@testable import WSGate

/// What a reload does to one loop's upstream state: an unchanged upstream keeps its opener (and its
/// HTTP/2 pools), a changed or removed one's is shut down. No connection is dialled
/// (`connections_per_loop: 0`).
final class UpstreamLoopStateTests: XCTestCase {
    private let loop = EmbeddedEventLoop()

    private func cluster(
        _ protocol: UpstreamProtocol = .websocketH2,
        connectTimeout: Duration = .seconds(5)
    ) throws -> UpstreamCluster {
        UpstreamCluster(
            configuration: UpstreamConfiguration(
                name: "app",
                protocol: `protocol`,
                endpoints: [try SocketAddressSpec.parse("127.0.0.1:9001")],
                connectTimeout: connectTimeout,
                pool: HTTP2PoolConfiguration(connectionsPerLoop: 0)
            )
        )
    }

    private func open(_ opener: UpstreamLoopOpener, counters: UpstreamCounters) -> Result<UpstreamLink, any Error>? {
        let fields = ForwardedFields(path: "/", host: "a.test", endToEnd: HTTPHeaders(), forwarding: HTTPHeaders())
        var result: Result<UpstreamLink, any Error>?
        opener.open(fields, offeredSubprotocols: [], tls: nil, counters: counters).whenComplete { result = $0 }
        self.loop.run()
        return result
    }

    func testUnchangedUpstreamKeepsItsOpenerAcrossAReload() throws {
        let state = UpstreamLoopState()
        let first = try self.cluster()
        state.adopt(["app": first], on: self.loop)
        let opener = state.opener(for: first, on: self.loop)
        XCTAssertEqual(state.poolStats()["app"]?.map(\.endpoint), ["127.0.0.1:9001"])

        let reloaded = try self.cluster()
        state.adopt(["app": reloaded], on: self.loop)
        XCTAssertTrue(state.opener(for: reloaded, on: self.loop) === opener)
    }

    func testChangedUpstreamGetsANewOpenerAndTheOldPoolsStop() throws {
        let state = UpstreamLoopState()
        let first = try self.cluster()
        state.adopt(["app": first], on: self.loop)
        let old = state.opener(for: first, on: self.loop)

        let changed = try self.cluster(connectTimeout: .seconds(2))
        state.adopt(["app": changed], on: self.loop)
        XCTAssertFalse(state.opener(for: changed, on: self.loop) === old)

        let counters = UpstreamCounters()
        guard case .failure(let error as UpstreamError) = self.open(old, counters: counters) else {
            return XCTFail("the old pools still take streams")
        }
        XCTAssertEqual(error.kind, .unreachable)
        XCTAssertTrue(error.detail.contains("shutting down"), error.detail)
        XCTAssertEqual(counters.stats.connectFailures, ["unreachable": 1])
    }

    func testRemovedUpstreamIsShutDownAndForgotten() throws {
        let state = UpstreamLoopState()
        let first = try self.cluster()
        state.adopt(["app": first], on: self.loop)
        let old = state.opener(for: first, on: self.loop)
        state.adopt([:], on: self.loop)
        XCTAssertEqual(state.poolStats().count, 0)
        guard case .failure = self.open(old, counters: UpstreamCounters()) else {
            return XCTFail("the removed pools still take streams")
        }
    }

    /// A handshake that began before a reload reaches the loop with the earlier cluster: it is served by
    /// the upstream's current opener, which it must not replace (the pools would churn back and forth).
    func testAnEarlierClusterKeepsTheCurrentOpener() throws {
        let state = UpstreamLoopState()
        let first = try self.cluster()
        state.adopt(["app": first], on: self.loop)
        let changed = try self.cluster(connectTimeout: .seconds(2))
        state.adopt(["app": changed], on: self.loop)
        let current = state.opener(for: changed, on: self.loop)

        XCTAssertTrue(state.opener(for: first, on: self.loop) === current)
        XCTAssertTrue(state.opener(for: changed, on: self.loop) === current, "still the current one afterwards")
        XCTAssertEqual(current.configuration.connectTimeout, .seconds(2))
    }

    /// An earlier cluster of an upstream the reload removed gets an opener of its own, stopped at once,
    /// and the loop keeps nothing for it.
    func testAnEarlierClusterOfARemovedUpstreamIsNotKept() throws {
        let state = UpstreamLoopState()
        let first = try self.cluster()
        state.adopt(["app": first], on: self.loop)
        var other = first.configuration
        other.name = "other"
        state.adopt(["other": UpstreamCluster(configuration: other)], on: self.loop)

        let stale = state.opener(for: first, on: self.loop)
        XCTAssertNil(state.poolStats()["app"], "no pool kept for the removed upstream")
        guard case .failure = self.open(stale, counters: UpstreamCounters()) else {
            return XCTFail("a removed upstream's opener takes streams")
        }
    }

    func testOnlyMultiplexedUpstreamsHavePools() throws {
        let state = UpstreamLoopState()
        state.adopt(["app": try self.cluster(.websocket)], on: self.loop)
        XCTAssertNil(state.poolStats()["app"])
        XCTAssertEqual(UpstreamLoopState.sum([state.poolStats()], clusters: ["app": try self.cluster(.websocket)]), [:])
        let multiplexed = try self.cluster()
        XCTAssertEqual(
            UpstreamLoopState.sum([], clusters: ["app": multiplexed])["app"],
            [UpstreamEndpointStats(endpoint: "127.0.0.1:9001")]
        )
    }

    func testEndpointHealthIsSummedOverTheLoops() throws {
        let state = UpstreamLoopState()
        let cluster = try self.cluster(.websocket)
        state.adopt(["app": cluster], on: self.loop)
        let fresh = state.endpointHealth(at: .now())
        XCTAssertEqual(fresh["app"]?.map(\.isHealthy), [true], "a loop's opener starts healthy")
        XCTAssertEqual(fresh["app"]?.first?.loops, 1)

        var failing = UpstreamEndpointHealth(endpoint: "127.0.0.1:9001")
        failing.loops = 1
        failing.failuresInARow = 2
        failing.activeLegs = 1
        var busy = try XCTUnwrap(fresh["app"]?.first)
        busy.activeLegs = 3
        let sum = try XCTUnwrap(UpstreamLoopState.sum([["app": [busy]], ["app": [failing]]], clusters: ["app": cluster])["app"])
        XCTAssertEqual(sum.count, 1)
        XCTAssertEqual(sum[0].loops, 2)
        XCTAssertEqual(sum[0].healthyLoops, 1)
        XCTAssertFalse(sum[0].isHealthy, "healthy only when every loop says so")
        XCTAssertEqual(sum[0].failuresInARow, 2, "the worst loop's run of failures")
        XCTAssertEqual(sum[0].activeLegs, 4)
        XCTAssertEqual(
            UpstreamLoopState.sum([] as [[String: [UpstreamEndpointHealth]]], clusters: ["app": cluster])["app"],
            [UpstreamEndpointHealth(endpoint: "127.0.0.1:9001")],
            "an endpoint no loop has seen yet shows zeros"
        )
    }
}
