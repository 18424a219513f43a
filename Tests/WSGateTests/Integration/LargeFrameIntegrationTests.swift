import Foundation
import XCTest

@testable import WSGate

/// A single 256 MiB frame through the real gateway between a Python client and a Python upstream
/// (separate processes), while the gateway's memory, the only sizeable thing in this process,
/// stays bounded by its watermarks rather than by the frame.
final class LargeFrameIntegrationTests: XCTestCase {
    func test256MiBFrameRoundTripsWithBoundedGatewayMemory() async throws {
        let upstream = try await PeerProcess.pythonEchoServer()
        defer { upstream.stop() }
        let gateway = try await GatewayHarness.start(
            """
            upstreams:
              py:
                endpoints: [127.0.0.1:\(upstream.port)]
            routes:
              - match: {path_prefix: /}
                upstream: py
                limits: {max_frame: 300MiB, max_message: 300MiB}
            """
        )
        let baseline = try ProcessMemory.resetPeak()
        let result = try await runPythonClient(
            args: ["echo", "ws://127.0.0.1:\(gateway.port)/big", "--sizes", "268435456", "--binary-only", "--timeout", "300"],
            timeout: .seconds(600)
        )
        let peak = try ProcessMemory.peakResidentBytes()
        await gateway.stop()

        XCTAssertEqual(result["exit_code"] as? Int, 0, "\(result)")
        XCTAssertEqual(result["messages"] as? Int, 1, "the echo matched byte for byte")
        let growth = peak - baseline
        XCTAssertLessThan(growth, 32 << 20, "gateway peak RSS grew by \(growth >> 20) MiB for a 256 MiB frame")
        print("256 MiB frame: gateway process peak RSS growth \(growth >> 10) KiB")
    }
}

/// Reads this process's resident memory from /proc.
enum ProcessMemory {
    /// Resets the peak resident size (VmHWM) to the current size and returns that size in bytes.
    static func resetPeak() throws -> Int {
        try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .ascii)
        return try self.field("VmHWM")
    }

    /// The peak resident size since the last reset, in bytes.
    static func peakResidentBytes() throws -> Int {
        try self.field("VmHWM")
    }

    private static func field(_ name: String) throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .ascii)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return kilobytes * 1024
    }
}
