import NIOCore
import NIOHTTP1
import XCTest

@testable import WSGate

final class ClientHandshakeRequestTests: XCTestCase {
    private func head(
        method: HTTPMethod = .GET,
        version: HTTPVersion = .http1_1,
        removing removed: [String] = [],
        adding added: [(String, String)] = []
    ) -> HTTPRequestHead {
        var headers = HTTPHeaders([
            ("Host", "example.com"),
            ("Upgrade", "websocket"),
            ("Connection", "keep-alive, Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ])
        for name in removed { headers.remove(name: name) }
        headers.add(contentsOf: added)
        return HTTPRequestHead(version: version, method: method, uri: "/chat?room=1", headers: headers)
    }

    private func assertRejected(
        _ head: HTTPRequestHead,
        _ status: HTTPResponseStatus,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertThrowsError(try ClientHandshakeRequest(validating: head), file: file, line: line) { error in
            XCTAssertEqual((error as? HandshakeRejection)?.status, status, file: file, line: line)
        }
    }

    func testAcceptsAValidRequest() throws {
        let request = try ClientHandshakeRequest(
            validating: self.head(adding: [("Sec-WebSocket-Protocol", "chat, superchat"), ("Origin", "https://example.com")])
        )
        XCTAssertEqual(request.key, "dGhlIHNhbXBsZSBub25jZQ==")
        XCTAssertEqual(request.subprotocols, ["chat", "superchat"])
        XCTAssertEqual(request.origin, "https://example.com")
        XCTAssertEqual(request.path, "/chat")
    }

    func testRFCAcceptExample() {
        XCTAssertEqual(WebSocketAccept.value(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func testBadRequests() {
        self.assertRejected(self.head(method: .POST), .badRequest)
        self.assertRejected(self.head(version: .http1_0), .badRequest)
        self.assertRejected(self.head(removing: ["Host"]), .badRequest)
        self.assertRejected(self.head(removing: ["Connection"]), .badRequest)
        self.assertRejected(self.head(removing: ["Upgrade"], adding: [("Upgrade", "h2c")]), .badRequest)
        self.assertRejected(self.head(removing: ["Sec-WebSocket-Key"]), .badRequest)
        self.assertRejected(self.head(removing: ["Sec-WebSocket-Key"], adding: [("Sec-WebSocket-Key", "c2hvcnQ=")]), .badRequest)
        self.assertRejected(self.head(adding: [("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]), .badRequest)
        self.assertRejected(self.head(removing: ["Sec-WebSocket-Version"]), .badRequest)
    }

    /// Issue 11, finding 6: a Host with quotes and `;` passed and was pasted into `Forwarded`.
    func testHostMustBeHostAndPort() throws {
        let forged = [
            "a\", for=6.6.6.6;host=\"x.example.com", "a\";proto=https;by=\".example.com", "a b", "a,b", "a;b", "a=b",
            "a%2eb", "example.com:", "example.com:80:81", "example.com:65536", "example.com:http", "[::1", "[::1]x",
            "[not:an:address]", "[1.2.3.4]", "::1", ":80", ".", "user@example.com",
        ]
        for host in forged {
            self.assertRejected(self.head(removing: ["Host"], adding: [("Host", host)]), .badRequest)
        }
        for host in [
            "example.com", "Example.COM.:8443", "127.0.0.1:80", "[::1]:1234", "[2001:db8::1]", "under_score.test", "localhost:1",
        ] {
            XCTAssertNoThrow(
                try ClientHandshakeRequest(validating: self.head(removing: ["Host"], adding: [("Host", host)])),
                host
            )
        }
        XCTAssertEqual(HostHeader("Example.COM.:8443")?.hostname, "example.com")
        XCTAssertEqual(HostHeader("[2001:DB8::1]:65535")?.hostname, "2001:db8::1")
    }

    func testWrongVersionIs426WithSupportedVersion() throws {
        let head = self.head(removing: ["Sec-WebSocket-Version"], adding: [("Sec-WebSocket-Version", "8")])
        XCTAssertThrowsError(try ClientHandshakeRequest(validating: head)) { error in
            let rejection = error as? HandshakeRejection
            XCTAssertEqual(rejection?.status, .upgradeRequired)
            XCTAssertTrue(rejection?.headers.contains { $0.0 == "Sec-WebSocket-Version" && $0.1 == "13" } ?? false)
        }
    }

    func testPlainHTTPRequestIs426() {
        self.assertRejected(self.head(removing: ["Upgrade", "Connection"]), .upgradeRequired)
    }
}
