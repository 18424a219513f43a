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
    /// - Throws: 502 for a body under any transfer coding but a lone `chunked` (`gzip, chunked`,
    ///   `gzip`, `chunked, chunked`), as nginx: the client encoder frames only a lone `chunked`, so
    ///   such a body would reach a keep-alive client unframed (a second response smuggled in it).
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
        let codings = response.headers[canonicalForm: "Transfer-Encoding"]
        if bodyless {
            self.upstreamFraming = .none
        } else if !codings.isEmpty {
            // Transfer-Encoding overrides Content-Length (RFC 9112 section 6.3 rules 3 and 4).
            guard codings.count == 1, codings[0].lowercased() == "chunked" else {
                throw HandshakeRejection(
                    .badGateway,
                    "the upstream's Transfer-Encoding (\(codings.joined(separator: ", "))) is not a lone chunked"
                )
            }
            self.upstreamFraming = .chunked
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
                headers.add(name: "Transfer-Encoding", value: "chunked")
            } else {
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
