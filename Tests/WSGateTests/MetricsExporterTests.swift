import XCTest

@testable import WSGate

/// The `/metrics` exporter on hand-made figures: counters raised by deltas, histograms replayed
/// exactly, nothing counted twice across scrapes.
final class MetricsExporterTests: XCTestCase {
    private func snapshot(sizes: [Int], messages: Int) -> GatewayStatsSnapshot {
        var route = RouteStats()
        route.messages.clientToUpstream = messages
        for size in sizes {
            route.messageBytes.clientToUpstream.observe(size)
        }
        route.closes[RouteStats.CloseKey(code: 1000, side: .client)] = 2
        return GatewayStatsSnapshot(loops: [
            LoopStatsSnapshot(routes: ["r": route], upstreams: [:], sessions: 1),
            LoopStatsSnapshot(routes: [:], upstreams: [:], sessions: 2),
        ])
    }

    private func lines(_ bytes: [UInt8]) -> Set<String> {
        Set(String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    func testScrapesAreExactAndIncremental() {
        let exporter = MetricsExporter()
        let info = MetricsExporter.Info(uptimeSeconds: 1, routes: ["r", "idle"], upstreams: [], tlsHandshakeFailures: [:])
        let first = self.lines(exporter.scrape(self.snapshot(sizes: [10, 100, 101, 5000], messages: 4), info))
        XCTAssertTrue(first.contains(#"wsgate_messages_total{route="r",direction="client_to_upstream"} 4"#), "\(first.sorted())")
        XCTAssertTrue(first.contains(#"wsgate_messages_total{route="idle",direction="client_to_upstream"} 0"#))
        XCTAssertTrue(first.contains(#"wsgate_close_codes_total{route="r",code="1000",side="client"} 2"#))
        XCTAssertTrue(first.contains(#"wsgate_message_bytes_count{route="r",direction="client_to_upstream"} 4"#))
        XCTAssertTrue(first.contains(#"wsgate_message_bytes_sum{route="r",direction="client_to_upstream"} 5211.0"#))
        XCTAssertTrue(first.contains(#"wsgate_message_bytes_bucket{route="r",direction="client_to_upstream",le="64.0"} 1"#))
        XCTAssertTrue(first.contains(#"wsgate_message_bytes_bucket{route="r",direction="client_to_upstream",le="256.0"} 3"#))
        XCTAssertTrue(first.contains(#"wsgate_event_loop_connections{loop="1"} 2.0"#), "gauges are floating point")

        // The same figures again: nothing moves. Then two more messages.
        let second = self.lines(exporter.scrape(self.snapshot(sizes: [10, 100, 101, 5000], messages: 4), info))
        XCTAssertEqual(first, second)
        let third = self.lines(exporter.scrape(self.snapshot(sizes: [10, 100, 101, 5000, 20, 70], messages: 6), info))
        XCTAssertTrue(third.contains(#"wsgate_messages_total{route="r",direction="client_to_upstream"} 6"#))
        XCTAssertTrue(third.contains(#"wsgate_message_bytes_sum{route="r",direction="client_to_upstream"} 5301.0"#))
        XCTAssertTrue(third.contains(#"wsgate_message_bytes_bucket{route="r",direction="client_to_upstream",le="64.0"} 2"#))
        XCTAssertTrue(third.contains(#"wsgate_message_bytes_bucket{route="r",direction="client_to_upstream",le="256.0"} 5"#))
    }
}
