import NIOCore
import NIOHTTP1
import XCTest

@testable import WSGate

final class UpstreamRequestBuilderTests: XCTestCase {
    func testForwardsEndToEndHeadersAndAddsForwardingHeaders() throws {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ws/chat?x=1", headers: HTTPHeaders([
            ("Host", "chat.example.com"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade, X-Hop"),
            ("X-Hop", "secret"),
            ("Keep-Alive", "timeout=5"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Extensions", "permessage-deflate"),
            ("Sec-WebSocket-Protocol", "chat"),
            ("Cookie", "session=abc"),
            ("Origin", "https://chat.example.com"),
            ("X-Forwarded-For", "10.0.0.1"),
            ("X-Custom", "kept"),
        ]))
        let request = try ClientHandshakeRequest(validating: head)
        let upstream = UpstreamRequestBuilder.makeRequest(
            from: request,
            upstreamPath: "/chat?x=1",
            clientAddress: try SocketAddress(ipAddress: "192.0.2.7", port: 5555),
            scheme: "http",
            key: "AAAAAAAAAAAAAAAAAAAAAA=="
        )
        XCTAssertEqual(upstream.uri, "/chat?x=1")
        let headers = upstream.headers
        XCTAssertEqual(headers["Host"], ["chat.example.com"])
        XCTAssertEqual(headers["Cookie"], ["session=abc"])
        XCTAssertEqual(headers["Origin"], ["https://chat.example.com"])
        XCTAssertEqual(headers["X-Custom"], ["kept"])
        XCTAssertEqual(headers["Sec-WebSocket-Protocol"], ["chat"])
        XCTAssertEqual(headers["Sec-WebSocket-Key"], ["AAAAAAAAAAAAAAAAAAAAAA=="])
        XCTAssertEqual(headers["Sec-WebSocket-Version"], ["13"])
        XCTAssertEqual(headers["Connection"], ["Upgrade"])
        XCTAssertEqual(headers["Upgrade"], ["websocket"])
        XCTAssertTrue(headers["X-Hop"].isEmpty)
        XCTAssertTrue(headers["Keep-Alive"].isEmpty)
        XCTAssertTrue(headers["Sec-WebSocket-Extensions"].isEmpty)
        XCTAssertEqual(headers["X-Forwarded-For"], ["10.0.0.1, 192.0.2.7"])
        XCTAssertEqual(headers["X-Forwarded-Proto"], ["http"])
        XCTAssertEqual(headers["X-Forwarded-Host"], ["chat.example.com"])
        XCTAssertEqual(headers["Forwarded"], ["for=192.0.2.7;host=\"chat.example.com\";proto=http"])
    }

    func testIPv6ClientIsQuotedInForwarded() throws {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: HTTPHeaders([
            ("Host", "h"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
        ]))
        let upstream = UpstreamRequestBuilder.makeRequest(
            from: try ClientHandshakeRequest(validating: head),
            upstreamPath: "/",
            clientAddress: try SocketAddress(ipAddress: "::1", port: 1),
            scheme: "https",
            key: "AAAAAAAAAAAAAAAAAAAAAA=="
        )
        XCTAssertEqual(upstream.headers["Forwarded"], ["for=\"[::1]\";host=\"h\";proto=https"])
    }

    func testRelayedResponseHeadersKeepCookiesOnly() {
        let relayed = UpstreamRequestBuilder.relayedResponseHeaders(HTTPHeaders([
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "x"),
            ("Sec-WebSocket-Protocol", "chat"), ("Set-Cookie", "a=b"), ("Date", "now"),
        ]))
        XCTAssertEqual(relayed.map { "\($0.0): \($0.1)" }, ["Set-Cookie: a=b"])
    }

    func testClientCertificateSubjectIsSetOnlyByTheGateway() throws {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: HTTPHeaders([
            ("Host", "a.test"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
            ("X-Client-Cert-Subject", "CN=forged"),
        ]))
        let request = try ClientHandshakeRequest(validating: head)
        let anonymous = UpstreamRequestBuilder.makeRequest(
            from: request, upstreamPath: "/", clientAddress: nil, scheme: "https", key: "AAAAAAAAAAAAAAAAAAAAAA=="
        )
        XCTAssertEqual(anonymous.headers["X-Client-Cert-Subject"], [])
        XCTAssertEqual(anonymous.headers["X-Forwarded-Proto"], ["https"])
        let verified = UpstreamRequestBuilder.makeRequest(
            from: request, upstreamPath: "/", clientAddress: nil, scheme: "https", key: "AAAAAAAAAAAAAAAAAAAAAA==",
            clientCertificateSubject: "CN=alice,O=Example"
        )
        XCTAssertEqual(verified.headers["X-Client-Cert-Subject"], ["CN=alice,O=Example"])
    }
}
