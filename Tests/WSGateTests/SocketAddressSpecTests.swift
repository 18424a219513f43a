import XCTest

@testable import WSGate

final class SocketAddressSpecTests: XCTestCase {
    func testParsesAndPrintsBackAddresses() throws {
        let cases: [(String, SocketAddressSpec)] = [
            ("127.0.0.1:8080", SocketAddressSpec(host: "127.0.0.1", port: 8080)),
            ("0.0.0.0:0", SocketAddressSpec(host: "0.0.0.0", port: 0)),
            ("localhost:80", SocketAddressSpec(host: "localhost", port: 80)),
            (
                "backend-1.internal_svc.example:65535",
                SocketAddressSpec(host: "backend-1.internal_svc.example", port: 65535)
            ),
            ("[::1]:8080", SocketAddressSpec(host: "::1", port: 8080)),
            ("[::]:443", SocketAddressSpec(host: "::", port: 443)),
            ("[2001:db8::10]:9001", SocketAddressSpec(host: "2001:db8::10", port: 9001)),
            ("[::ffff:192.0.2.1]:1", SocketAddressSpec(host: "::ffff:192.0.2.1", port: 1)),
        ]
        for (text, expected) in cases {
            let address = try SocketAddressSpec.parse(text)
            XCTAssertEqual(address, expected, text)
            XCTAssertEqual(address.description, text)
        }
    }

    func testRejectsMalformedAddresses() {
        let cases: [(String, String)] = [
            ("127.0.0.1", "address '127.0.0.1' is missing a port, e.g. '127.0.0.1:8080'"),
            ("127.0.0.1:", "address '127.0.0.1:' has an invalid port '' (expected 0...65535)"),
            ("127.0.0.1:65536", "address '127.0.0.1:65536' has an invalid port '65536' (expected 0...65535)"),
            ("127.0.0.1:-1", "address '127.0.0.1:-1' has an invalid port '-1' (expected 0...65535)"),
            ("127.0.0.1:http", "address '127.0.0.1:http' has an invalid port 'http' (expected 0...65535)"),
            ("256.0.0.1:80", "address '256.0.0.1:80' has an invalid IPv4 address '256.0.0.1'"),
            ("1.2.3:80", "address '1.2.3:80' has an invalid IPv4 address '1.2.3'"),
            ("1..2.3:80", "address '1..2.3:80' has an invalid IPv4 address '1..2.3'"),
            (":8080", "address ':8080' is missing a host, e.g. '0.0.0.0:8080'"),
            ("::1:8080", "address '::1:8080': write IPv6 addresses in brackets, e.g. '[::1]:8080'"),
            ("[::1]", "address '[::1]' is missing a port, e.g. '[::1]:8080'"),
            ("[::1:8080", "address '[::1:8080' is missing the closing ']'"),
            ("[example.com]:80", "address '[example.com]:80' has an invalid IPv6 address in brackets"),
            ("exa mple.com:80", "address 'exa mple.com:80' has an invalid host name 'exa mple.com'"),
            ("http://example.com:80", "address 'http://example.com:80' must be host:port, without a scheme or path"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(ByteSizeTests.message(SocketAddressSpec.parse, text), expected, text)
        }
    }
}
