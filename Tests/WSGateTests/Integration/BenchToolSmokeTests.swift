import Foundation
import XCTest

/// The benchmark tool (Sources/wsgate-bench) works: it runs scenario (b), 64 connections × 32 B
/// echo, for one second and reports messages and no errors. No figure is asserted (timing has no
/// place in tests); scripts/bench.sh is where figures come from.
final class BenchToolSmokeTests: XCTestCase {
    /// Straight against examples/echo-upstream, with the upstream's CPU and memory read from /proc.
    func testEcho32AgainstEchoUpstreamReportsMessagesAndNoErrors() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        defer { upstream.stop() }

        let result = try await Self.runBench(port: upstream.port, extraArguments: ["--server-pid", "\(upstream.pid)"])

        XCTAssertEqual(result["scenario"] as? String, "echo32")
        XCTAssertEqual(result["connections"] as? Int, 64)
        XCTAssertGreaterThan(result["messages"] as? Int ?? 0, 0, "\(result)")
        XCTAssertEqual(result["errors"] as? Int, 0, "\(result)")
        XCTAssertNotNil(result["server_cpu_s"], "--server-pid given: the upstream's CPU time is reported")
        XCTAssertNotNil(result["p99_us"])
    }

    /// Through the gateway (one-to-one to echo-upstream): the tool measures wsgate the same way.
    func testEcho32ThroughGatewayReportsMessagesAndNoErrors() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        defer { upstream.stop() }
        let gateway = try await GatewayHarness.start(
            """
            upstreams:
              app:
                endpoints: [127.0.0.1:\(upstream.port)]
            routes:
              - upstream: app
            """
        )

        let result: [String: Any]
        do {
            result = try await Self.runBench(port: gateway.port, extraArguments: [])
        } catch {
            await gateway.stop()
            throw error
        }
        await gateway.stop()

        XCTAssertGreaterThan(result["messages"] as? Int ?? 0, 0, "\(result)")
        XCTAssertEqual(result["errors"] as? Int, 0, "\(result)")
    }

    /// Scenario (e): the tool's pre-compressed messages are valid permessage-deflate in both of the
    /// gateway's memory modes (a bad one would be closed with 1002/1007 and counted as an error),
    /// and every connection reports the extension accepted.
    func testCompressedEchoThroughGatewayInBothModes() async throws {
        let gateway = try await GatewayHarness.start(
            """
            upstreams:
              echo: {protocol: echo}
            routes:
              - name: shared
                match: {path_prefix: /shared/}
                upstream: echo
                compression: {context_takeover: false}
              - upstream: echo
            defaults:
              compression: {min_size: 0}
            """
        )
        var results: [[String: Any]] = []
        do {
            for scenario in ["e-b", "e-b-shared"] {
                results.append(try await Self.runBench(port: gateway.port, scenario: scenario, extraArguments: []))
            }
        } catch {
            await gateway.stop()
            throw error
        }
        await gateway.stop()

        for result in results {
            XCTAssertGreaterThan(result["messages"] as? Int ?? 0, 0, "\(result)")
            XCTAssertEqual(result["errors"] as? Int, 0, "\(result)")
            XCTAssertEqual(result["deflate_conns"] as? Int, 64, "\(result)")
        }
    }

    /// Runs `wsgate-bench run` for one scenario (default b; 1 s, no warm-up) and returns its JSON line.
    private static func runBench(port: Int, scenario: String = "b", extraArguments: [String]) async throws -> [String: Any] {
        let arguments =
            [
                "run", "--url", "ws://127.0.0.1:\(port)", "--target", "test", "--scenario", scenario,
                "--duration", "1s", "--warmup", "0s",
            ] + extraArguments
        let process = try await PeerProcess.runProcess(
            executable: try self.benchExecutable(),
            arguments: arguments,
            timeout: .seconds(120)
        )
        XCTAssertEqual(process.status, 0, "wsgate-bench failed; stderr: \(process.stderr)")
        let line = process.stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)), let result = object as? [String: Any] else {
            XCTFail("no JSON line from wsgate-bench; stdout: \(process.stdout.debugDescription) stderr: \(process.stderr)")
            return [:]
        }
        return result
    }

    /// The wsgate-bench executable built with the tests (or `$WSGATE_BENCH`).
    private static func benchExecutable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["WSGATE_BENCH"] {
            return URL(fileURLWithPath: path)
        }
        let candidates = PeerProcess.binDirectoryCandidates.map { $0.appendingPathComponent("wsgate-bench") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw PeerProcessError.executableNotFound(
                "wsgate-bench not found (looked at \(candidates.map(\.path))); run `swift build --build-tests` first"
            )
        }
        return found
    }
}
