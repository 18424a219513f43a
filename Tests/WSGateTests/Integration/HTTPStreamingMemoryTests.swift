import Foundation
import XCTest

/// 256 MiB streamed through the real `wsgate` process each way, to and from an `aiohttp` app, with
/// Python `httpx` as the client: the body is never held whole, and the gateway's resident memory
/// (VmRSS in /proc/PID/status, sampled by the client every 8 MiB) stays within a bound far below
/// the body's size.
final class HTTPStreamingMemoryTests: XCTestCase {
    private static let size = 256 << 20
    /// What the gateway may grow by while a 256 MiB body goes through.
    private static let rssBound = 48 << 10  // KiB

    private var app: PeerProcess?
    private var gateway: GatewayProcess?

    override func tearDown() async throws {
        self.gateway?.stop()
        self.app?.stop()
    }

    func testA256MiBDownloadAndUploadStreamWithBoundedMemory() async throws {
        let app = try await PeerProcess.start(
            name: "http_app.py",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [PeerProcess.python, "-u", PeerProcess.peerScript("http_app.py").path, "--port", "0"],
            currentDirectory: PeerProcess.repositoryRoot
        )
        self.app = app
        let gateway = try await GatewayProcess.start(
            """
            listeners:
              - {name: public, address: 127.0.0.1:0}
            admin: {address: 127.0.0.1:0}
            upstreams:
              app: {endpoints: [127.0.0.1:\(app.port)]}
            routes:
              - {name: app, upstream: app, limits: {max_request_body: 1GiB}}
            """
        )
        self.gateway = gateway
        let base = "http://127.0.0.1:\(gateway.port("public"))"
        // Warm up: the first request sets up the pools and the allocator's arenas.
        _ = try await runPythonPeer("http_client.py", args: ["download", "\(base)/download?size=1048576", "1048576"])

        let down = try await runPythonPeer(
            "http_client.py",
            args: ["download", "\(base)/download?size=\(Self.size)", String(Self.size), "--rss-pid", String(gateway.pid)],
            timeout: .seconds(300)
        )
        XCTAssertEqual(down["exit_code"] as? Int, 0, "\(down)")
        XCTAssertEqual(down["bytes"] as? Int, Self.size)
        XCTAssertEqual(down["pattern_ok"] as? Bool, true)
        Self.assertBounded(down["rss_kib"], "download")

        let up = try await runPythonPeer(
            "http_client.py",
            args: ["upload", "\(base)/upload", String(Self.size), "--rss-pid", String(gateway.pid)],
            timeout: .seconds(300)
        )
        XCTAssertEqual(up["exit_code"] as? Int, 0, "\(up)")
        let answer = try XCTUnwrap(up["answer"] as? [String: Any])
        XCTAssertEqual(answer["bytes"] as? Int, Self.size)
        XCTAssertEqual(answer["sha256"] as? String, up["sha256"] as? String)
        Self.assertBounded(up["rss_kib"], "upload")
    }

    private static func assertBounded(_ samples: Any?, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let samples = samples as? [Int], let first = samples.first, let peak = samples.max(), samples.count > 16 else {
            return XCTFail("no RSS samples for the \(what): \(String(describing: samples))", file: file, line: line)
        }
        print("HTTP \(what) of 256 MiB: gateway VmRSS \(first) KiB at start, \(peak) KiB at most (\(samples.count) samples)")
        XCTAssertLessThan(
            peak - first,
            Self.rssBound,
            "the gateway's RSS grew by \(peak - first) KiB in the \(what)",
            file: file,
            line: line
        )
    }
}
