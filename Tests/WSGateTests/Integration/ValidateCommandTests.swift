import Foundation
import XCTest

/// `wsgate validate FILE` on the real binary: `ok` and the route table with exit 0 for a good file;
/// every error with its file, line and key on stderr and exit 1 for a bad one.
final class ValidateCommandTests: XCTestCase {
    private func validate(_ yaml: String) async throws -> PeerProcess.ProcessResult {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-validate-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await PeerProcess.runProcess(
            executable: try GatewayProcess.executable(),
            arguments: ["validate", "--config", file.path],
            timeout: .seconds(60)
        )
    }

    func testAGoodFilePrintsOkAndTheRouteTable() async throws {
        let result = try await self.validate(
            """
            listeners: [{name: public, address: 127.0.0.1:0}]
            upstreams: {echo: {protocol: echo}}
            routes: [{name: chat, match: {path_prefix: /chat}, upstream: echo}]
            """
        )
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("ok"), result.stdout)
        XCTAssertTrue(result.stdout.contains("chat"), result.stdout)
    }

    func testABadFileNamesLineAndKeyAndExitsOne() async throws {
        let result = try await self.validate(
            """
            listeners: [{name: public, address: 127.0.0.1:0}]
            upstreams: {echo: {protocol: echo}}
            routes: [{name: chat, upstream: echo}]
            limits: {max_connection: 10}
            """
        )
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stderr.contains(":4:"), result.stderr)
        XCTAssertTrue(result.stderr.contains("limits.max_connection: unknown key"), result.stderr)
        XCTAssertTrue(result.stderr.contains("max_connections"), "suggests the known key: \(result.stderr)")
        XCTAssertFalse(result.stdout.contains("ok"))
    }

    func testAuthKeySourcesAreCheckedWithTheirLines() async throws {
        let result = try await self.validate(
            """
            listeners: [{name: public, address: 127.0.0.1:0}]
            upstreams: {echo: {protocol: echo}}
            routes:
              - name: chat
                upstream: echo
                auth:
                  jwt:
                    algorithms: [ES256, none]
                    pem_files: [/nonexistent/key.pem]
            """
        )
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stderr.contains(":8:"), result.stderr)
        XCTAssertTrue(result.stderr.contains("routes[0].auth.jwt.algorithms[1]: 'none' is never accepted"), result.stderr)

        let keys = try await self.validate(
            """
            listeners: [{name: public, address: 127.0.0.1:0}]
            upstreams: {echo: {protocol: echo}}
            routes:
              - name: chat
                upstream: echo
                auth:
                  jwt:
                    algorithms: [ES256]
                    pem_files: [/nonexistent/key.pem]
            """
        )
        XCTAssertEqual(keys.status, 1, keys.stdout)
        XCTAssertTrue(
            keys.stderr.contains(":9:")
                && keys.stderr.contains("routes[0].auth.jwt.pem_files[0]: pem file '/nonexistent/key.pem': cannot be read"),
            keys.stderr
        )
    }
}
