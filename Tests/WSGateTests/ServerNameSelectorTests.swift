import Foundation
import XCTest

@testable import WSGate

/// SNI selection rules, without I/O.
final class ServerNameSelectorTests: XCTestCase {
    private let selector = ServerNameSelector(namesByCertificate: [
        ["default.test"],
        ["*.example.com", "example.com"],
        ["chat.example.com"],
        ["API.Other.Test"],
    ])

    func testExactWinsOverWildcardAndCaseAndTrailingDotAreIgnored() {
        XCTAssertEqual(self.selector.certificateIndex(for: "chat.example.com"), 2)
        XCTAssertEqual(self.selector.certificateIndex(for: "CHAT.example.com."), 2)
        XCTAssertEqual(self.selector.certificateIndex(for: "api.other.test"), 3)
        XCTAssertEqual(self.selector.certificateIndex(for: "example.com"), 1)
    }

    func testWildcardCoversExactlyOneLabel() {
        XCTAssertEqual(self.selector.certificateIndex(for: "video.example.com"), 1)
        XCTAssertEqual(self.selector.certificateIndex(for: "a.b.example.com"), 0)
    }

    func testNoSNIOrNoMatchFallsBackToTheFirst() {
        XCTAssertEqual(self.selector.certificateIndex(for: nil), 0)
        XCTAssertEqual(self.selector.certificateIndex(for: "unknown.test"), 0)
        XCTAssertEqual(self.selector.certificateIndex(for: "com"), 0)
        XCTAssertEqual(self.selector.certificateIndex(for: "example.com.evil"), 0)
    }
}

/// Change detection of the watched TLS files, without a running gateway.
final class WatchedFileFingerprintsTests: XCTestCase {
    func testNoticesARewrittenOrRemovedFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-fp-\(UUID().uuidString).pem").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "one".write(toFile: path, atomically: false, encoding: .utf8)
        let first = WatchedFileFingerprints(paths: [path])
        XCTAssertEqual(WatchedFileFingerprints(paths: [path]), first)
        try "three".write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertNotEqual(WatchedFileFingerprints(paths: [path]), first)
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(
            WatchedFileFingerprints(paths: [path]).fingerprints[path],
            WatchedFileFingerprints.Fingerprint(size: nil, modified: nil)
        )
    }

    func testTheAdminListenersTLSFilesAreWatched() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: """
                listeners: [{address: 127.0.0.1:8080}]
                admin: {tls: {certificates: [{cert: admin.crt, key: admin.key}], client_auth: {ca: admin-ca.pem}}}
                """,
            file: "t.yaml"
        )
        XCTAssertEqual(
            WatchedFileFingerprints.paths(in: configuration, configurationFile: "t.yaml"),
            ["admin-ca.pem", "admin.crt", "admin.key", "t.yaml"]
        )
    }
}
