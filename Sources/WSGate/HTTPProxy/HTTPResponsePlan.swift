import NIOHTTP1

/// How the gateway answers a client with an upstream's response head (RFC 9112 section 6.3): the
/// head it writes, re-framed for the client, and what the response means for both connections.
struct HTTPResponsePlan: Equatable {
    /// The head toward the client: the upstream's status and end-to-end fields
    /// (``ForwardingPolicy/relayedHTTPResponseHeaders(_:)``), then the gateway's framing.
    var head: HTTPResponseHead
    /// How the upstream delimits the body.
    var upstreamFraming: HTTPBodyFraming
    /// Whether the client connection closes once this response is written.
    var closesClient: Bool
    /// Whether the upstream connection may carry another request after this response, as far as the
    /// response says (HTTP/1.1, no `Connection: close`, a body that does not end with the connection).
    var upstreamKeepsAlive: Bool

    /// - Parameters:
    ///   - requestMethod: a `HEAD` response has no body whatever its fields say.
    ///   - clientVersion: an HTTP/1.0 client gets a body of unknown length delimited by the close.
    ///   - clientKeepsAlive: whether the client's request allows another one on its connection.
    /// - Throws: 502 for a body under a transfer coding besides `chunked` (`gzip, chunked`) that the
    ///   client cannot be told of (HTTP/1.0 has no `Transfer-Encoding`), or with `chunked` before
    ///   another coding: relayed unlabelled it would reach the client as other bytes than it reads.
    init(
        response: HTTPResponseHead,
        requestMethod: HTTPMethod,
        clientVersion: HTTPVersion,
        clientKeepsAlive: Bool
    ) throws(HandshakeRejection) {
        let status = response.status.code
        let bodyless = requestMethod == .HEAD || (100..<200).contains(status) || status == 204 || status == 304
        let lengths = response.headers[canonicalForm: "Content-Length"]
        let length = lengths.first.flatMap { Int($0) }
        let codings = response.headers[canonicalForm: "Transfer-Encoding"].map { $0.lowercased() }
        // The codings the body keeps once the gateway has taken the upstream's chunking off.
        var kept: [String] = []
        if bodyless {
            self.upstreamFraming = .none
        } else if !codings.isEmpty {
            // Transfer-Encoding overrides Content-Length (RFC 9112 section 6.3 rules 3 and 4): chunked
            // last, or the body runs until the upstream closes.
            self.upstreamFraming = codings.last == "chunked" ? .chunked : .untilClose
            kept = codings.last == "chunked" ? codings.dropLast() : codings
            guard !kept.contains("chunked") else {
                throw HandshakeRejection(.badGateway, "the upstream's Transfer-Encoding has chunked before another coding")
            }
        } else if let length {
            self.upstreamFraming = .contentLength(length)
        } else {
            self.upstreamFraming = .untilClose
        }

        var headers = ForwardingPolicy.relayedHTTPResponseHeaders(response.headers)
        var closesClient = !clientKeepsAlive
        switch self.upstreamFraming {
        case .none:
            // What an equivalent GET would carry (RFC 9110 section 8.6): informative, no body follows.
            if status != 204, !(100..<200).contains(status), let length {
                headers.add(name: "Content-Length", value: String(length))
            }
        case .contentLength(let length):
            headers.add(name: "Content-Length", value: String(length))
        case .chunked, .untilClose:
            if clientVersion.major == 1, clientVersion.minor >= 1 {
                headers.add(name: "Transfer-Encoding", value: (kept + ["chunked"]).joined(separator: ", "))
            } else {
                guard kept.isEmpty else {
                    throw HandshakeRejection(
                        .badGateway,
                        "the upstream's transfer coding (\(kept.joined(separator: ", "))) cannot reach an HTTP/1.0 client"
                    )
                }
                closesClient = true
            }
        }
        if closesClient {
            headers.add(name: "Connection", value: "close")
        }
        self.head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
        self.closesClient = closesClient
        self.upstreamKeepsAlive =
            response.version.major == 1 && response.version.minor >= 1
            && !response.headers[canonicalForm: "Connection"].contains { $0.lowercased() == "close" }
            && self.upstreamFraming != .untilClose
    }

    /// Whether a client's request lets its connection carry another one: HTTP/1.1 without
    /// `Connection: close`, and no `Upgrade` (the HTTP decoder stops at an upgrade request).
    static func clientKeepsAlive(_ head: HTTPRequestHead) -> Bool {
        head.version.major == 1 && head.version.minor >= 1
            && !head.headers[canonicalForm: "Connection"].contains { $0.lowercased() == "close" }
            && !head.headers.contains(name: "Upgrade")
    }
}
