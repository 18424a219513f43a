import NIOCore
import NIOHTTP1
import NIOSSL
import XCTest

@testable import WSGate

/// The forwarded-request policy with its HTTP/1.1 encoder (the upgrade request to a `websocket` upstream).
final class ForwardingPolicyTests: XCTestCase {
    /// The upgrade request the policy and its HTTP/1.1 encoder make of a client's request.
    private static func makeRequest(
        from request: ClientHandshakeRequest,
        upstreamPath: String,
        clientAddress: SocketAddress?,
        scheme: String,
        key: String,
        clientCertificateSubject: String? = nil,
        dropUnderscoreHeaders: Bool = false
    ) -> HTTPRequestHead {
        let forwarded = ForwardedRequest(
            headers: request.head.headers,
            host: request.host,
            path: upstreamPath,
            client: .init(address: clientAddress, scheme: scheme, certificateSubject: clientCertificateSubject)
        )
        return ForwardingPolicy(dropUnderscoreHeaders: dropUnderscoreHeaders).fields(for: forwarded).webSocketUpgradeHead(
            key: key
        )
    }

    func testForwardsEndToEndHeadersAndAddsForwardingHeaders() throws {
        let head = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: "/ws/chat?x=1",
            headers: HTTPHeaders([
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
            ])
        )
        let request = try ClientHandshakeRequest(validating: head)
        let upstream = Self.makeRequest(
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
        XCTAssertEqual(headers["Forwarded"], ["for=192.0.2.7;host=chat.example.com;proto=http"])
    }

    func testIPv6ClientIsQuotedInForwarded() throws {
        let head = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: "/",
            headers: HTTPHeaders([
                ("Host", "h"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
            ])
        )
        let upstream = Self.makeRequest(
            from: try ClientHandshakeRequest(validating: head),
            upstreamPath: "/",
            clientAddress: try SocketAddress(ipAddress: "::1", port: 1),
            scheme: "https",
            key: "AAAAAAAAAAAAAAAAAAAAAA=="
        )
        XCTAssertEqual(upstream.headers["Forwarded"], ["for=\"[::1]\";host=h;proto=https"])
    }

    func testRelayedResponseHeadersKeepCookiesOnly() {
        let relayed = ForwardingPolicy.relayedResponseHeaders(
            HTTPHeaders([
                ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "x"),
                ("Sec-WebSocket-Protocol", "chat"), ("Set-Cookie", "a=b"), ("Date", "now"),
            ])
        )
        XCTAssertEqual(relayed.map { "\($0.0): \($0.1)" }, ["Set-Cookie: a=b"])
    }

    func testClientCertificateSubjectIsSetOnlyByTheGateway() throws {
        let head = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: "/",
            headers: HTTPHeaders([
                ("Host", "a.test"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
                ("X-Client-Cert-Subject", "CN=forged"),
            ])
        )
        let request = try ClientHandshakeRequest(validating: head)
        let anonymous = Self.makeRequest(
            from: request,
            upstreamPath: "/",
            clientAddress: nil,
            scheme: "https",
            key: "AAAAAAAAAAAAAAAAAAAAAA=="
        )
        XCTAssertEqual(anonymous.headers["X-Client-Cert-Subject"], [])
        XCTAssertEqual(anonymous.headers["X-Forwarded-Proto"], ["https"])
        let verified = Self.makeRequest(
            from: request,
            upstreamPath: "/",
            clientAddress: nil,
            scheme: "https",
            key: "AAAAAAAAAAAAAAAAAAAAAA==",
            clientCertificateSubject: "CN=alice,O=Example"
        )
        XCTAssertEqual(verified.headers["X-Client-Cert-Subject"], ["CN=alice,O=Example"])
    }

    private static func request(_ extra: [(String, String)], host: String = "a.test") throws -> ClientHandshakeRequest {
        try ClientHandshakeRequest(
            validating: HTTPRequestHead(
                version: .http1_1,
                method: .GET,
                uri: "/",
                headers: HTTPHeaders(
                    [
                        ("Host", host), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
                    ] + extra
                )
            )
        )
    }

    /// Issue 11, finding 6: `Forwarded` values were pasted in unescaped, so a Host with a quote
    /// rewrote the element (`host="a", for=6.6.6.6;host="x.example.com"`).
    func testForwardedValuesAreTokensOrEscapedQuotedStrings() throws {
        XCTAssertEqual(ForwardingPolicy.forwardedValue("203.0.113.9"), "203.0.113.9")
        XCTAssertEqual(ForwardingPolicy.forwardedValue("[::1]:1234"), "\"[::1]:1234\"")
        XCTAssertEqual(ForwardingPolicy.forwardedValue("a\", for=6.6.6.6;x=\"\\"), "\"a\\\", for=6.6.6.6;x=\\\"\\\\\"")
        XCTAssertEqual(ForwardingPolicy.forwardedValue(""), "\"\"")
        XCTAssertEqual(ForwardingPolicy.forwardedValue("a\"\u{301}b"), "\"a\\\"\u{301}b\"", "a quote with a combining mark")

        let ipv6Host = Self.makeRequest(
            from: try Self.request([], host: "[::1]:1234"),
            upstreamPath: "/",
            clientAddress: try SocketAddress(ipAddress: "::1", port: 1),
            scheme: "https",
            key: "AAAAAAAAAAAAAAAAAAAAAA=="
        )
        XCTAssertEqual(ipv6Host.headers["Forwarded"], ["for=\"[::1]\";host=\"[::1]:1234\";proto=https"])

        // The handshake refuses such a Host (400); the builder escapes it all the same.
        var forged = try Self.request([])
        forged.host = "a\", for=6.6.6.6;host=\"x.example.com"
        let upstream = Self.makeRequest(
            from: forged,
            upstreamPath: "/",
            clientAddress: try SocketAddress(ipAddress: "192.0.2.7", port: 1),
            scheme: "http",
            key: "AAAAAAAAAAAAAAAAAAAAAA=="
        )
        XCTAssertEqual(
            upstream.headers["Forwarded"],
            ["for=192.0.2.7;host=\"a\\\", for=6.6.6.6;host=\\\"x.example.com\";proto=http"]
        )
    }

    /// Issue 11, finding 6: underscore spellings of the gateway's own headers reached the upstream,
    /// and many app servers fold `_` into `-`.
    func testEverySpellingOfAGatewayHeaderIsDropped() throws {
        let request = try Self.request([
            ("X_Client_Cert_Subject", "CN=admin"), ("x-client_cert-SUBJECT", "CN=admin"), ("X_Forwarded_Proto", "https"),
            ("X_FORWARDED_FOR", "6.6.6.6"), ("x_forwarded_host", "evil.test"), ("X-Forwarded_Host", "evil.test"),
            ("Transfer_Encoding", "chunked"), ("Sec_WebSocket_Key", "x"), ("X_Custom", "kept"),
        ])
        let upstream = Self.makeRequest(
            from: request,
            upstreamPath: "/",
            clientAddress: try SocketAddress(ipAddress: "192.0.2.7", port: 1),
            scheme: "http",
            key: "AAAAAAAAAAAAAAAAAAAAAA==",
            clientCertificateSubject: "CN=alice"
        )
        let underscored = upstream.headers.map(\.name).filter { $0.contains("_") }
        XCTAssertEqual(underscored, ["X_Custom"])
        XCTAssertEqual(upstream.headers["X-Client-Cert-Subject"], ["CN=alice"])
        XCTAssertEqual(upstream.headers["X-Forwarded-Proto"], ["http"])
        XCTAssertEqual(upstream.headers["X-Forwarded-For"], ["192.0.2.7"])
        XCTAssertEqual(upstream.headers["X-Forwarded-Host"], ["a.test"])
        XCTAssertEqual(upstream.headers["Forwarded"], ["for=192.0.2.7;host=a.test;proto=http"])

        let strict = Self.makeRequest(
            from: request,
            upstreamPath: "/",
            clientAddress: nil,
            scheme: "http",
            key: "AAAAAAAAAAAAAAAAAAAAAA==",
            dropUnderscoreHeaders: true
        )
        XCTAssertEqual(strict.headers.map(\.name).filter { $0.contains("_") }, [])
        XCTAssertEqual(strict.headers["Host"], ["a.test"])
    }

    /// The length prefilter skips only names no spelling of which is a dropped one: a field named
    /// in `Connection` (any length), hop-by-hop ones in any case, and names of 63 bytes or more
    /// (which share a bit) are still dropped; others of the same length as a dropped one are kept.
    func testTheLengthPrefilterSkipsOnlyNamesThatCannotBeDropped() {
        let lengths = FieldNameLengths(["connection", "te"])
        XCTAssertTrue(lengths.mayContain("CONNECTION"))
        XCTAssertTrue(lengths.mayContain("User-Agent"), "same length: canonicalised and looked up")
        XCTAssertTrue(lengths.mayContain("TE"))
        XCTAssertFalse(lengths.mayContain("Content-Type"))
        XCTAssertFalse(lengths.mayContain(""))
        let long = String(repeating: "x", count: 70)
        XCTAssertTrue(FieldNameLengths([long]).mayContain(String(repeating: "Y", count: 63)))
        XCTAssertTrue(lengths.union(FieldNameLengths([long])).mayContain(long.uppercased()))

        let response = HTTPHeaders([
            ("Content-Type", "text/plain"), ("CONTENT_LENGTH", "5"), ("Connection", "X-Hop, keep-alive"),
            ("x_hop", "1"), ("Keep-Alive", "timeout=5"), ("TE", "trailers"), ("User-Agent", "kept"),
            (long, "gone"), ("Connection", long.uppercased()), ("Date", "today"),
        ])
        XCTAssertEqual(
            ForwardingPolicy.relayedHTTPResponseHeaders(response).map(\.name),
            ["Content-Type", "User-Agent", "Date"]
        )
    }

    /// Issue 11, finding 6: nothing with CR, LF or NUL in a value (or a name that is not a token) is
    /// relayed, toward the upstream or back to the client.
    func testFieldsThatWouldSplitAHeaderAreNeverRelayed() throws {
        var request = try Self.request([])
        request.head.headers.add(name: "X-Split", value: "a\r\nX-Client-Cert-Subject: CN=admin")
        request.head.headers.add(name: "X-Nul", value: "a\u{0}b")
        request.head.headers.add(name: "X-Forwarded-For", value: "1.1.1.1\r\nX-Evil: 1")
        request.head.headers.add(name: "Bad Name", value: "x")
        let upstream = Self.makeRequest(
            from: request,
            upstreamPath: "/",
            clientAddress: try SocketAddress(ipAddress: "192.0.2.7", port: 1),
            scheme: "http",
            key: "AAAAAAAAAAAAAAAAAAAAAA==",
            clientCertificateSubject: "CN=a\r\nX-Evil: 1"
        )
        for (name, value) in upstream.headers {
            XCTAssertTrue(ForwardingPolicy.isRelayable(name: name, value: value), "\(name): \(value.debugDescription)")
        }
        XCTAssertEqual(upstream.headers["X-Split"], [])
        XCTAssertEqual(upstream.headers["X-Nul"], [])
        XCTAssertEqual(upstream.headers["X-Forwarded-For"], ["192.0.2.7"])
        XCTAssertEqual(upstream.headers[ClientCertificateSubject.headerName], [])

        let relayed = ForwardingPolicy.relayedResponseHeaders(
            HTTPHeaders([
                ("Set-Cookie", "a=b"), ("Set-Cookie", "c=d\r\nSet-Cookie: admin=1"), ("X-Nul", "\u{0}"), ("X-Lf", "a\nb"),
                ("bad name", "x"), ("x-folded\r\nx-evil", "1"), ("X_Forwarded_For", "6.6.6.6"),
            ])
        )
        XCTAssertEqual(relayed.map { "\($0.0): \($0.1)" }, ["Set-Cookie: a=b"])
    }

    /// Issue 11, finding 6: a certificate's subject went into `X-Client-Cert-Subject` unchecked.
    func testClientCertificateSubjectEscapesControlCharacters() throws {
        let authority = try TestCertificateAuthority()
        let issued = try authority.issue(
            "crlf",
            commonName: "alice\r\nX-Evil: 1\u{0}",
            dnsNames: [],
            ipAddresses: [],
            clientAuth: true
        )
        let certificate = try XCTUnwrap(NIOSSLCertificate.fromPEMFile(issued.certificatePath).first)
        XCTAssertEqual(ClientCertificateSubject.subject(of: certificate), "CN=alice\\0D\\0AX-Evil: 1\\00,O=wsgate tests")
    }
}
